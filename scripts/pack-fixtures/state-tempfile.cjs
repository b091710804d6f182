// @mimic/state-tempfile through its CommonJS entry point, with @mimic/core resolved as its peer.
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { Mime, assertIsState, assertIsStateClass } = require("@mimic/core");
const { TempFileState } = require("@mimic/state-tempfile");

async function main() {
  const basePath = mkdtempSync(join(tmpdir(), "mimic-pack-tempfile-"));
  try {
    assertIsStateClass(TempFileState);
    const state = new TempFileState({ basePath });
    assertIsState(state);
    let calls = 0;
    const double = Mime({ ttl: 60, state })(function double(x) {
      calls += 1;
      return x * 2;
    });
    const results = [double(21), double(21)];
    await state.close?.();
    console.log(`TempFileState ${typeof TempFileState} ${results.join(" ")} calls=${calls}`);
  } finally {
    rmSync(basePath, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
