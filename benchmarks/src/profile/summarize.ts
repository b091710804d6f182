import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time and inclusive time per function,
 * so the README can say what dominates a hot path without opening DevTools.
 *
 *   tsx src/profile/summarize.ts <file.cpuprofile> [--top 25] [--filter memoize.ts]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  readonly label: string;
  readonly selfPct: number;
  readonly totalPct: number;
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** The source map next to a built file (tsup writes `dist/index.mjs.map`), to name `src/*.ts` lines. */
function sourceMapFor(file: string): SourceMap | undefined {
  if (!sourceMaps.has(file)) {
    const mapFile = `${file}.map`;
    sourceMaps.set(file, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, "utf8")) as never) : undefined);
  }
  return sourceMaps.get(file);
}

function labelOf(node: ProfileNode): string {
  const { functionName, url, lineNumber, columnNumber } = node.callFrame;
  const name = functionName || "(anonymous)";
  if (url === "") return name;
  const file = url.startsWith("file://") ? fileURLToPath(url) : url;
  const entry = file.includes(`${path.sep}dist${path.sep}`) ? sourceMapFor(file)?.findEntry(lineNumber, columnNumber) : undefined;
  // findEntry returns {} when the position has no mapping.
  const original = entry as { originalSource?: string; originalLine?: number } | undefined;
  if (original?.originalSource !== undefined && original.originalLine !== undefined) {
    return `${name} ${path.basename(original.originalSource)}:${original.originalLine + 1}`;
  }
  return `${name} ${path.basename(file)}:${lineNumber + 1}`;
}

export function summarize(profile: CpuProfile): FunctionCost[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfTime = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const node = byId.get(id)!;
    const label = labelOf(node);
    self.set(label, (self.get(label) ?? 0) + time);
    // Count each function once per stack, however often it recurses.
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
      const l = labelOf(byId.get(current)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + time);
    }
  }
  return [...inclusive.keys()]
    .map((label) => ({ label, selfPct: (100 * (self.get(label) ?? 0)) / total, totalPct: (100 * inclusive.get(label)!) / total }))
    .sort((a, b) => b.selfPct - a.selfPct);
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  if (file === undefined) throw new Error("usage: summarize.ts <file.cpuprofile> [--top N] [--filter text]");
  const topIndex = args.indexOf("--top");
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
  const filterIndex = args.indexOf("--filter");
  const filter = filterIndex >= 0 ? args[filterIndex + 1] : undefined;
  const costs = summarize(JSON.parse(readFileSync(file, "utf8")) as CpuProfile).filter(
    (c) => filter === undefined || c.label.includes(filter),
  );
  console.log("  self %   total %  function");
  for (const c of costs.slice(0, top)) console.log(`${c.selfPct.toFixed(1).padStart(8)} ${c.totalPct.toFixed(1).padStart(9)}  ${c.label}`);
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
