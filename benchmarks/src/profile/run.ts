import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { benchmarksDir } from "../cli.js";
import { summarize } from "./summarize.js";

/**
 * `pnpm --filter @mimic/benchmarks run profile <path> [seconds]`: runs one Mimic hot path under
 * `node --cpu-prof` in a child process (built @mimic/core, as in the benchmarks), keeps the profile
 * as results/<path>.cpuprofile and prints where the time goes, mapped back to src/*.ts lines.
 * Add `--no-inlining` to see the wrapper's and the state's own frames.
 */
const argv = process.argv.slice(2).filter((a) => a !== "--");
// --no-inlining: V8 keeps every function a frame of its own, so the self time of the wrapper and the
// state shows up under their own names instead of inside the caller's loop (slower, but attributable).
const noInlining = argv.includes("--no-inlining");
const [name, seconds = "5"] = argv.filter((a) => a !== "--no-inlining");
if (name === undefined) {
  console.error("usage: pnpm --filter @mimic/benchmarks run profile <path> [seconds]; paths are listed in src/profile/hot-path.ts");
  process.exit(2);
}
const resultsDir = path.join(benchmarksDir, "results");
const scratch = path.join(resultsDir, `.cpu-prof-${process.pid}`);
mkdirSync(scratch, { recursive: true });
const child = spawnSync(
  process.execPath,
  [...(noInlining ? ["--no-turbo-inlining"] : []), "--cpu-prof", "--cpu-prof-dir", scratch, "--import", "tsx", path.join(benchmarksDir, "src", "profile", "hot-path.ts"), name, seconds],
  { cwd: benchmarksDir, stdio: "inherit" },
);
const written = readdirSync(scratch).filter((f) => f.endsWith(".cpuprofile"));
if (child.status !== 0 || written.length === 0) {
  rmSync(scratch, { recursive: true, force: true });
  console.error(`profiling ${name} failed (exit ${child.status})`);
  process.exit(1);
}
// The main thread's profile is the first one written; worker threads (the Redis bridge) write their own.
const target = path.join(resultsDir, `${name}.cpuprofile`);
renameSync(path.join(scratch, written.sort()[0]!), target);
for (const extra of written.sort().slice(1)) renameSync(path.join(scratch, extra), path.join(resultsDir, `${name}.${extra}`));
rmSync(scratch, { recursive: true, force: true });
const costs = summarize(JSON.parse(readFileSync(target, "utf8")));
console.log(`\n${path.relative(process.cwd(), target)}: top functions by self time`);
console.log("  self %   total %  function");
for (const c of costs.slice(0, 30)) console.log(`${c.selfPct.toFixed(1).padStart(8)} ${c.totalPct.toFixed(1).padStart(9)}  ${c.label}`);
