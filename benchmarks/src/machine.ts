import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";

/** What the numbers were measured on; printed as the header and stored in latest.json. */
export interface Machine {
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  /** 1-minute load average when the run started: other processes share this machine. */
  readonly loadAverageAtStart: number;
  readonly gitCommit: string | undefined;
  /** Packages whose sources differ from that commit (the numbers measure their working tree). */
  readonly uncommittedPackages: readonly string[];
}

function gitCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

function uncommittedPackages(): string[] {
  try {
    // ":(top)" makes the pathspec relative to the repository root whatever the working directory.
    const status = execFileSync("git", ["status", "--porcelain", "--", ":(top)packages"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const names = status
      .split("\n")
      .map((line) => /packages\/([^/]+)\/src\//.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    return [...new Set(names)].sort();
  } catch {
    return [];
  }
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    gitCommit: gitCommit(),
    uncommittedPackages: uncommittedPackages(),
  };
}
