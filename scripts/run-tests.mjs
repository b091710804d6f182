#!/usr/bin/env node
// `pnpm test`: builds and tests every workspace package through turbo, then prints one total over
// all packages as its last line: "N passed, N failed". Exits non-zero when anything failed or when
// no test ran at all, so a run that tested nothing cannot pass.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const resultsDir = path.join(root, ".test-results");
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const turbo = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", "test", "--continue", "--concurrency=1", ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, MIMIC_TEST_RESULTS_DIR: resultsDir, TURBO_TELEMETRY_DISABLED: "1" },
  },
);

let passed = 0;
let failed = 0;
const perPackage = [];
const failures = [];
for (const file of readdirSync(resultsDir).filter((f) => f.endsWith(".json")).sort()) {
  const report = JSON.parse(readFileSync(path.join(resultsDir, file), "utf8"));
  const packageFailed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  passed += report.numPassedTests;
  failed += packageFailed;
  for (const suite of report.testResults ?? []) {
    const testFile = path.relative(root, suite.name);
    for (const test of suite.assertionResults ?? []) {
      if (test.status === "failed") failures.push(`  ${testFile} › ${test.fullName}`);
    }
    // A suite that could not run (a syntax or type error, an import that throws) has a message but no failed test.
    if (suite.status === "failed" && !(suite.assertionResults ?? []).some((t) => t.status === "failed")) {
      const reason = String(suite.message ?? "")
        .split("\n")
        .map((line) => line.trim())
        .find((line) => line !== "" && !line.includes("Test suite failed to run"));
      failures.push(`  ${testFile} (suite could not run): ${reason ?? "no message"}`);
    }
  }
  perPackage.push(`  ${file.replace(/\.json$/, "")}: ${report.numPassedTests} passed, ${packageFailed} failed`);
}
const summary = `${passed} passed, ${failed} failed`;
writeFileSync(path.join(resultsDir, "summary.txt"), summary + "\n");
writeFileSync(path.join(resultsDir, "failures.txt"), failures.map((f) => f + "\n").join(""));
console.log("\nTests by package:\n" + perPackage.join("\n"));
// Named again here, at the end of the output, so a CI log read from its tail says what failed.
if (failures.length > 0) console.log("\nFailed:\n" + failures.join("\n"));
if (turbo.status !== 0 && failed === 0) {
  console.error("turbo reported a failure outside the test counts (a build or a suite that could not run).");
}
console.log(summary);
process.exit(turbo.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
