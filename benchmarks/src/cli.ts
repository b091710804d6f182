import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunSettings } from "./types.js";

/** Parsed command line of `pnpm bench`. */
export interface CliOptions {
  readonly settings: RunSettings;
  /** Scenario ids to run (`--only 1,3,9`); every scenario when empty. */
  readonly only: readonly string[];
  /** Where the JSON results go. */
  readonly outFile: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const benchmarksDir = path.resolve(here, "..");

const usage = `Usage: pnpm bench [--quick] [--only 1,2,9] [--out results/latest.json]
  --quick        run each case briefly (checks the harness; numbers are not meaningful)
  --only <ids>   run only these scenarios (ids 1-14 and 5b)
  --out <file>   where to write the JSON results (default: benchmarks/results/latest.json)`;

export function parseArguments(argv: readonly string[]): CliOptions {
  let quick = false;
  let only: string[] = [];
  let outFile = path.join(benchmarksDir, "results", "latest.json");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value\n${usage}`);
      return next;
    };
    if (arg === "--") continue;
    else if (arg === "--quick") quick = true;
    else if (arg === "--only") only = value().split(",").map((s) => s.trim()).filter(Boolean);
    else if (arg.startsWith("--only=")) only = arg.slice(7).split(",").map((s) => s.trim()).filter(Boolean);
    else if (arg === "--out") outFile = path.resolve(value());
    else if (arg === "--help" || arg === "-h") {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${usage}`);
  }
  const settings: RunSettings = quick
    ? { quick, timeMs: 40, warmupMs: 10, rounds: 1, minIterations: 4 }
    : { quick, timeMs: 1_200, warmupMs: 150, rounds: 120, minIterations: 1 };
  return { settings, only, outFile };
}
