import { spawnSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import path from "node:path";

// The ESM and CJS builds loaded in one process share one Mimic. This runs the same fixture as the
// packed-tarball test, against this package's built dist/ (a package may import itself by name).
test("an ESM app and a CJS dependency share the config, the registries and the error classes", () => {
  const packageDir = path.resolve(__dirname, "..");
  const fixture = path.join(packageDir, `.one-mimic-${process.pid}.mjs`);
  copyFileSync(path.resolve(packageDir, "../../scripts/pack-fixtures/one-mimic.mjs"), fixture);
  try {
    const result = spawnSync(process.execPath, [fixture], { cwd: packageDir, encoding: "utf8", timeout: 30_000 });
    expect(result.stderr).toBe("");
    const lines = result.stdout.trim().split("\n");
    expect(lines.length).toBe(8);
    for (const line of lines) expect(line).toMatch(/^ok /);
  } finally {
    rmSync(fixture, { force: true });
  }
});
