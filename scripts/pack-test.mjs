#!/usr/bin/env node
// `pnpm test:pack`: proves that what we would publish works for a user who installs it from npm.
//
// Builds the publishable packages, packs @mimic/core (and the state packages when they build) with
// `pnpm pack` (which turns `workspace:^` ranges into real versions), installs the tarballs with npm
// into a fresh project outside the workspace (so no workspace link or hoisted dependency can leak
// in), then runs the seed scenario through `import` and `require`, and type-checks, compiles and
// runs a decorator example with tsc in TC39 and in experimentalDecorators mode, for .mts and .cts.
//
// Prints one PASS/FAIL line per check and exits non-zero on any failure. A state package that has
// no src/index.ts yet, or does not build, is reported as "SKIPPED <pkg>: <why>"; @mimic/core must pass.
// `--keep` keeps the temporary directory (it is always kept, and printed, when something fails).
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = path.join(root, "scripts", "pack-fixtures");
const keep = process.argv.includes("--keep");

const SEED_OUTPUT = ["Function was called", "3", "3", "Await 0.4 seconds", "Function was called", "3"];
const DECORATORS_OUTPUT = ["add number 3 3 calls=1", "find alice:x alice:x bob:x calls=2", "concurrent 1 alice:y calls=3"];

/** What scripts/pack-fixtures/one-mimic.mjs prints when the ESM and CJS builds share one Mimic. */
const ONE_MIMIC_OUTPUT = [
  "ok the CJS side sees the config set from ESM",
  "ok a function memoized through CJS uses the state set from ESM",
  "ok a Config built by the CJS build is accepted by either",
  "ok a CJS error is instanceof the ESM classes",
  "ok a state-kit error is instanceof InvalidOptionError of both builds",
  "ok subclasses keep their lineage across builds",
  "ok wrappers from the two builds never share entries",
  "ok instances seen by the two builds never share entries",
];

/** The packages a user installs; `required` ones fail the run instead of being skipped. */
const PACKAGES = [
  {
    name: "@mimic/core",
    dir: "packages/core",
    required: true,
    checks: [
      { file: "seed.mjs", expected: SEED_OUTPUT },
      { file: "seed.cjs", expected: SEED_OUTPUT },
      { file: "one-mimic.mjs", expected: ONE_MIMIC_OUTPUT },
    ],
  },
  {
    name: "@mimic/state-redis",
    dir: "packages/state-redis",
    required: false,
    checks: [
      { file: "state-redis.mjs", expected: ["RedisState function"] },
      { file: "state-redis.cjs", expected: ["RedisState function"] },
    ],
  },
  {
    name: "@mimic/state-tempfile",
    dir: "packages/state-tempfile",
    required: false,
    checks: [
      { file: "state-tempfile.mjs", expected: ["TempFileState function 42 42 calls=1"] },
      { file: "state-tempfile.cjs", expected: ["TempFileState function 42 42 calls=1"] },
    ],
  },
];

/** What a tarball may contain besides dist/: npm always adds these when present. */
const ALWAYS_PACKED = /^package\/(package\.json|README(\.md)?|LICEN[CS]E(\.md|\.txt)?|CHANGELOG\.md)$/i;

let failures = 0;

function indent(text) {
  return text
    .trim()
    .split("\n")
    .slice(-40)
    .map((line) => `    ${line}`)
    .join("\n");
}

const started = Date.now();
let lastMark = started;

/** Seconds since the previous PASS/FAIL line: shows where the time goes on a slow machine. */
function lap() {
  const now = Date.now();
  const seconds = ((now - lastMark) / 1000).toFixed(1);
  lastMark = now;
  return `(${seconds} s)`;
}

function pass(what) {
  console.log(`PASS ${what} ${lap()}`);
}

function fail(what, detail) {
  failures += 1;
  console.log(`FAIL ${what} ${lap()}`);
  if (detail) console.log(indent(detail));
}

/**
 * The environment for commands run in the fresh project: without the npm_* variables pnpm sets for
 * its scripts, so the workspace's configuration cannot reach the user's install.
 */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

function run(command, args, { cwd = root, timeout = 120_000, env = process.env } = {}) {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  let problem;
  if (result.error?.code === "ETIMEDOUT") problem = `did not finish within ${timeout / 1000} s (a timer or handle keeps it alive?)`;
  else if (result.error) problem = result.error.message;
  else if (result.status !== 0) problem = `exit code ${result.status ?? result.signal}`;
  return { ok: problem === undefined, problem, stdout: result.stdout ?? "", output };
}

/** Every file a package.json points at through main/module/types/exports. */
function referencedFiles(manifest) {
  const files = new Set();
  const visit = (value) => {
    if (typeof value === "string") files.add(value.replace(/^\.\//, ""));
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit([manifest.main, manifest.module, manifest.types, manifest.exports]);
  return [...files];
}

function hasWorkspaceRange(manifest) {
  const sections = ["dependencies", "peerDependencies", "optionalDependencies", "devDependencies"];
  return sections.some((section) => Object.values(manifest[section] ?? {}).some((range) => String(range).startsWith("workspace:")));
}

/** Runs a script of the fresh project and compares its standard output line by line. */
function checkOutput(label, cwd, file, expected) {
  const result = run(process.execPath, [file], { cwd, env: cleanEnv, timeout: 30_000 });
  const lines = result.stdout.trim().split("\n");
  if (!result.ok) {
    fail(label, `${result.problem}\n${result.output}`);
  } else if (lines.join("\n") !== expected.join("\n")) {
    fail(label, `expected:\n${expected.join("\n")}\ngot:\n${result.output}`);
  } else {
    pass(label);
  }
}

function tsconfig(outDir, experimentalDecorators) {
  return {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      // What careful users turn on: optional options must accept an explicit undefined.
      exactOptionalPropertyTypes: true,
      // Checking declaration files covers our shipped .d.ts but also all of @types/node, which costs
      // 10-20 s per run on a busy 2-core machine: done once, in the TC39 run (see below).
      skipLibCheck: experimentalDecorators,
      types: ["node"],
      rootDir: ".",
      outDir,
      noEmitOnError: true,
      ...(experimentalDecorators ? { experimentalDecorators: true } : {}),
    },
    files: ["decorators.mts", "decorators.cts"],
  };
}

// --- 1. build ---------------------------------------------------------------------------------------
console.log("Building the publishable packages with turbo...");
// Only the packages packed below (the conformance suite is linted, not installed here); --continue so
// one state package that does not build yet does not stop the others.
const build = run(
  "pnpm",
  ["exec", "turbo", "run", "build", ...PACKAGES.map((pkg) => `--filter=${pkg.name}`), "--continue", "--output-logs=errors-only"],
  { timeout: 300_000 },
);

const work = mkdtempSync(path.join(realpathSync(tmpdir()), "mimic-pack-test-"));
if (work.startsWith(root + path.sep)) {
  console.log(`FAIL the temporary directory ${work} is inside the workspace`);
  process.exit(1);
}

const packed = [];
for (const pkg of PACKAGES) {
  const pkgDir = path.join(root, pkg.dir);
  const skipOrFail = (why, detail) => {
    if (pkg.required) fail(`${pkg.name}: ${why}`, detail);
    else {
      console.log(`SKIPPED ${pkg.name}: ${why}${detail ? `\n${indent(detail)}` : ""}`);
      lap();
    }
  };
  if (!existsSync(path.join(pkgDir, "src", "index.ts"))) {
    skipOrFail(`${pkg.dir}/src/index.ts does not exist yet`);
    continue;
  }
  if (!build.ok) {
    // The combined run failed somewhere; ask for this package alone (turbo's cache makes a package
    // that did build instant) so one broken package does not hide the others.
    const own = run("pnpm", ["exec", "turbo", "run", "build", `--filter=${pkg.name}`, "--output-logs=errors-only"], {
      timeout: 300_000,
    });
    if (!own.ok) {
      skipOrFail(`build failed (${own.problem})`, own.output);
      continue;
    }
  }
  pass(`${pkg.name}: builds`);

  // --- 2. pack ------------------------------------------------------------------------------------
  const destination = path.join(work, "tarballs", pkg.name.replace("@mimic/", ""));
  mkdirSync(destination, { recursive: true });
  const pack = run("pnpm", ["pack", "--pack-destination", destination], { cwd: pkgDir });
  const tarball = readdirSync(destination).find((file) => file.endsWith(".tgz"));
  if (!pack.ok || tarball === undefined) {
    fail(`${pkg.name}: pnpm pack`, `${pack.problem ?? "no .tgz produced"}\n${pack.output}`);
    continue;
  }
  const tarballPath = path.join(destination, tarball);
  const listing = run("tar", ["-tzf", tarballPath]);
  const extract = run("tar", ["-xzf", tarballPath, "-C", destination, "package/package.json"]);
  if (!listing.ok || !extract.ok) {
    fail(`${pkg.name}: read ${tarball}`, listing.output + extract.output);
    continue;
  }
  const entries = listing.stdout.trim().split("\n");
  const manifest = JSON.parse(readFileSync(path.join(destination, "package", "package.json"), "utf8"));
  const stray = entries.filter((entry) => !entry.startsWith("package/dist/") && !ALWAYS_PACKED.test(entry));
  const missing = referencedFiles(manifest).filter((file) => !entries.includes(`package/${file}`));
  const problems = [
    ...stray.map((entry) => `packed but outside dist/: ${entry}`),
    ...missing.map((file) => `package.json points at ${file}, which is not in the tarball`),
    ...(hasWorkspaceRange(manifest) ? ["a workspace: range survived packing"] : []),
    ...(entries.includes("package/LICENSE") ? [] : ["no LICENSE in the tarball"]),
    ...["repository", "homepage", "bugs"].filter((field) => manifest[field] === undefined).map((field) => `package.json has no ${field}`),
    ...(manifest.repository?.directory === pkg.dir ? [] : [`repository.directory is not "${pkg.dir}"`]),
  ];
  if (problems.length > 0) fail(`${pkg.name}: tarball contents (${tarball})`, problems.join("\n"));
  else pass(`${pkg.name}: tarball ${tarball} (${entries.length} files, all under dist/ or package metadata; LICENSE, repository, homepage, bugs)`);
  packed.push({ ...pkg, tarballPath });
}

const core = packed.find((pkg) => pkg.name === "@mimic/core");
if (core === undefined) {
  console.log(`FAIL @mimic/core could not be packed; nothing to install (files kept in ${work})`);
  process.exit(1);
}

// --- 3. a fresh project -------------------------------------------------------------------------------
const project = path.join(work, "project");
mkdirSync(project);
writeFileSync(
  path.join(project, "package.json"),
  `${JSON.stringify({ name: "mimic-pack-test-app", version: "1.0.0", private: true, description: "pack test" }, null, 2)}\n`,
);
console.log(`Installing ${packed.map((pkg) => path.basename(pkg.tarballPath)).join(", ")} into ${project}...`);
// All tarballs in one command: npm then satisfies the state packages' peer range on @mimic/core
// with the core tarball instead of looking for @mimic/core on the registry.
const install = run(
  "npm",
  [
    "install",
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    ...packed.map((pkg) => pkg.tarballPath),
    "typescript@5.9",
    "@types/node@20",
  ],
  { cwd: project, env: cleanEnv, timeout: 180_000 },
);
if (!install.ok) {
  fail("npm install of the tarballs", `${install.problem}\n${install.output}`);
  console.log(`Files kept in ${work}`);
  process.exit(1);
}
pass("npm install of the tarballs into a fresh project");

const installedCore = path.join(project, "node_modules", "@mimic", "core");
const nestedCores = packed
  .filter((pkg) => pkg !== core)
  .map((pkg) => path.join(project, "node_modules", pkg.name, "node_modules", "@mimic", "core"))
  .filter((nested) => existsSync(nested));
if (lstatSync(installedCore).isSymbolicLink()) fail("@mimic/core is installed as a copy", `${installedCore} is a symlink`);
else if (nestedCores.length > 0) fail("one @mimic/core shared by every package", `nested copies:\n${nestedCores.join("\n")}`);
else pass("one @mimic/core, installed from its tarball, shared by every package");

for (const pkg of packed) {
  for (const check of pkg.checks) {
    copyFileSync(path.join(fixtures, check.file), path.join(project, check.file));
    const mode = check.file.endsWith(".mjs") ? "import" : "require";
    checkOutput(`${pkg.name}: ${check.file} (${mode})`, project, check.file, check.expected);
  }
}

// --- 4. TypeScript: both decorator modes, both module formats -----------------------------------------
const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
copyFileSync(path.join(fixtures, "decorators.ts"), path.join(project, "decorators.mts"));
copyFileSync(path.join(fixtures, "decorators.ts"), path.join(project, "decorators.cts"));
for (const [mode, experimentalDecorators] of [
  ["tc39", false],
  ["legacy", true],
]) {
  const label = experimentalDecorators ? "experimentalDecorators" : "TC39 decorators";
  const configFile = `tsconfig.${mode}.json`;
  const outDir = `out-${mode}`;
  writeFileSync(path.join(project, configFile), `${JSON.stringify(tsconfig(outDir, experimentalDecorators), null, 2)}\n`);
  const checked = `tsc --noEmit, ${label}, module nodenext (.mts + .cts)${experimentalDecorators ? "" : ", skipLibCheck false"}`;
  const check = run(process.execPath, [tsc, "-p", configFile, "--noEmit"], { cwd: project, env: cleanEnv });
  if (!check.ok) {
    fail(checked, `${check.problem}\n${check.output}`);
    continue;
  }
  pass(checked);
  // Just type-checked above; --noCheck (TypeScript 5.6+) only emits, which halves the time.
  const emit = run(process.execPath, [tsc, "-p", configFile, "--noCheck"], { cwd: project, env: cleanEnv });
  if (!emit.ok) {
    fail(`tsc emit, ${label}`, `${emit.problem}\n${emit.output}`);
    continue;
  }
  checkOutput(`compiled ESM output, ${label}`, project, path.join(outDir, "decorators.mjs"), DECORATORS_OUTPUT);
  checkOutput(`compiled CJS output, ${label}`, project, path.join(outDir, "decorators.cjs"), DECORATORS_OUTPUT);
}

// --- summary -------------------------------------------------------------------------------------------
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures > 0) {
  console.log(`pack test: ${failures} check(s) FAILED in ${seconds} s; files kept in ${work}`);
  process.exit(1);
}
if (keep) console.log(`Files kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`pack test: all checks passed in ${seconds} s`);
