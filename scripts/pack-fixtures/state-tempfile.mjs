// @mimic/state-tempfile through its ESM entry point, with @mimic/core resolved as its peer.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mime, assertIsState, assertIsStateClass } from "@mimic/core";
import { TempFileState } from "@mimic/state-tempfile";

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
