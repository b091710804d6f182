import { readFileSync } from "node:fs";
import type { Machine } from "./machine.js";
import { renderHeader, renderMarkdown } from "./report.js";
import type { Goal, RunSettings, Table } from "./types.js";

/**
 * Renders the body of RESULTS.md from a run's JSON: a goal summary (with any reruns of noisy
 * scenarios next to the full run's verdict) and every table of the full run.
 *
 *   tsx src/render-results.ts results/latest.json [--rerun results/rerun-7-8.json]...
 */

interface RunResult {
  date: string;
  mode: string;
  partial: boolean;
  durationSeconds: number;
  loadAverageAtEnd: number;
  machine: Machine;
  settings: RunSettings;
  tables: Table[];
}

function load(file: string): RunResult {
  return JSON.parse(readFileSync(file, "utf8")) as RunResult;
}

function verdict(goal: Goal | undefined): string {
  if (goal === undefined) return "—";
  return goal.met === null ? "not evaluated" : goal.met ? "**met**" : "**not met**";
}

/** "1.95× (p10 1.87×)" from a goal's detail line, which carries both ratios. */
function ratios(goal: Goal | undefined): string {
  if (goal === undefined) return "";
  const main = /: ([\d.]+× (?:faster )?)\(/.exec(goal.detail) ?? /\(([\d.]+×);/.exec(goal.detail);
  const p10 = /at p10: ([\d.]+×)/.exec(goal.detail);
  if (main === null) {
    const colon = goal.detail.lastIndexOf(": ");
    return colon === -1 ? goal.detail : goal.detail.slice(colon + 2);
  }
  return [main[1]?.trim(), p10 === null ? undefined : `p10 ${p10[1]}`].filter(Boolean).join(", ");
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--rerun");
  if (file === undefined) throw new Error("usage: render-results.ts <latest.json> [--rerun <file.json>]...");
  const full = load(file);
  const reruns = args.flatMap((a, i) => (a === "--rerun" && args[i + 1] !== undefined ? [load(args[i + 1]!)] : []));
  const rerunGoals = new Map<string, Goal[]>();
  for (const rerun of reruns) for (const t of rerun.tables) rerunGoals.set(t.id, [...(rerunGoals.get(t.id) ?? []), ...t.goals]);

  const out: string[] = [];
  out.push("```", renderHeader(full.machine, full.settings), `duration ${full.durationSeconds} s; load average at end ${full.loadAverageAtEnd}; ${full.date}`, "```", "");
  out.push("## Goals", "");
  out.push(`| table | goal | full run | ratio (median, p10) |${reruns.length > 0 ? " rerun | rerun ratio |" : ""}`);
  out.push(`| --- | --- | --- | --- |${reruns.length > 0 ? " --- | --- |" : ""}`);
  for (const table of full.tables) {
    table.goals.forEach((goal, index) => {
      const again = rerunGoals.get(table.id)?.[index];
      const cells = [table.id, goal.text.replace(/\|/g, "\\|"), verdict(goal), ratios(goal)];
      if (reruns.length > 0) cells.push(again === undefined ? "" : verdict(again), again === undefined ? "" : ratios(again));
      out.push(`| ${cells.join(" | ")} |`);
    });
  }
  out.push(
    "",
    "Ratios as in each goal line: time ratio to the baseline for the ≤ goals, speed-up for (1b), throughput ratio (above 1 = more ops/s than raw) for (7) and (11b); `p10` is the same ratio computed on the 10th percentiles.",
    "",
    "## Tables (full run)",
    "",
  );
  for (const table of full.tables) out.push(renderMarkdown(table), "");
  if (reruns.length > 0) {
    out.push("## Reruns of the noisiest scenarios", "");
    for (const rerun of reruns) {
      out.push("```", renderHeader(rerun.machine, rerun.settings), `duration ${rerun.durationSeconds} s; ${rerun.date}`, "```", "");
      for (const table of rerun.tables) out.push(renderMarkdown(table), "");
    }
  }
  console.log(out.join("\n"));
}

main();
