#!/usr/bin/env node
// Packaging lint for every publishable package under packages/ (those not marked private):
//   publint --strict   the package.json fields, exports map and files as a registry would see them;
//   attw --pack <dir>  "Are the Types Wrong?": whether TypeScript finds the right .d.ts for import and
//                      require under node10, node16 (CJS and ESM) and bundler resolution.
// attw runs with its default ("strict") profile: our packages pass it, including node10 resolution
// through `main`/`types`, so nothing is ignored.
//
// Builds the packages first with turbo (cached, so cheap after `pnpm build`); `--no-build` skips that.
// Prints one PASS/FAIL line per package (with the tool's output on failure); exits non-zero on any.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "node_modules", ".bin");
const CONCURRENCY = 2;

function publishablePackages() {
  const dir = path.join(root, "packages");
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((pkgDir) => existsSync(path.join(pkgDir, "package.json")))
    .map((pkgDir) => ({ dir: pkgDir, manifest: JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8")) }))
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

// Plain text in CI logs. (picocolors, used by publint, turns colours ON when FORCE_COLOR is set at all.)
const { FORCE_COLOR: _forceColor, ...inherited } = process.env;
const plainEnv = { ...inherited, NO_COLOR: "1" };

function run(command, args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: plainEnv });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => resolve({ ok: false, output: `${output}${error.message}` }));
    child.on("close", (code, signal) => resolve({ ok: code === 0, output: code === 0 ? output : `${output}\n(exit ${code ?? signal})` }));
  });
}

function indent(text) {
  return text
    .trim()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

async function lint({ dir, manifest }) {
  const checks = [
    ["publint --strict", await run(path.join(bin, "publint"), ["--strict", dir], root)],
    ["attw --pack", await run(path.join(bin, "attw"), ["--pack", dir, "--no-color"], root)],
  ];
  const failed = checks.filter(([, result]) => !result.ok);
  const label = `${manifest.name} (${path.relative(root, dir)})`;
  if (failed.length === 0) return { ok: true, report: `PASS ${label}: publint --strict, attw` };
  const details = failed.map(([tool, result]) => `  ${tool}:\n${indent(result.output)}`).join("\n");
  return { ok: false, report: `FAIL ${label}: ${failed.map(([tool]) => tool).join(", ")}\n${details}` };
}

const packages = publishablePackages();
if (packages.length === 0) {
  console.log("FAIL no publishable package found under packages/");
  process.exit(1);
}

if (!process.argv.includes("--no-build")) {
  console.log(`Building ${packages.map(({ manifest }) => manifest.name).join(", ")} with turbo...`);
  // --continue: a package that does not build fails its own lint below, not everyone's.
  spawnSync("pnpm", ["exec", "turbo", "run", "build", "--filter=./packages/*", "--continue", "--output-logs=errors-only"], {
    cwd: root,
    stdio: "inherit",
  });
}

const results = new Array(packages.length);
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, packages.length) }, async () => {
    while (next < packages.length) {
      const index = next++;
      const pkg = packages[index];
      const missing = ["main", "module", "types"].filter((field) => pkg.manifest[field] && !existsSync(path.join(pkg.dir, pkg.manifest[field])));
      results[index] =
        missing.length > 0
          ? { ok: false, report: `FAIL ${pkg.manifest.name}: not built (${missing.map((f) => pkg.manifest[f]).join(", ")} missing)` }
          : await lint(pkg);
    }
  }),
);

for (const { report } of results) console.log(report);
const failed = results.filter(({ ok }) => !ok).length;
console.log(failed === 0 ? `lint: ${results.length} package(s) passed` : `lint: ${failed} of ${results.length} package(s) FAILED`);
process.exit(failed === 0 ? 0 : 1);
