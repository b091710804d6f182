#!/usr/bin/env node
// Runs jest for the package in the current directory and, when MIMIC_TEST_RESULTS_DIR is set,
// writes jest's --json report there so scripts/run-tests.mjs can total every package.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
// jest's exports map hides bin/jest.js, so locate it from its package.json.
const jestManifest = require.resolve("jest/package.json", { paths: [process.cwd()] });
const jestBin = path.join(path.dirname(jestManifest), JSON.parse(readFileSync(jestManifest, "utf8")).bin.jest ?? "bin/jest.js");
const { name } = JSON.parse(readFileSync(path.join(process.cwd(), "package.json"), "utf8"));
const args = [jestBin, ...process.argv.slice(2)];
const resultsDir = process.env.MIMIC_TEST_RESULTS_DIR;
if (resultsDir) {
  const file = path.join(resultsDir, `${name.replace(/[@/]/g, "_")}.json`);
  args.push("--json", `--outputFile=${file}`);
}
if (process.env.CI) args.push("--ci");
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(result.status ?? 1);
