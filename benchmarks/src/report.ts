import type { Machine } from "./machine.js";
import type { Goal, Row, RunSettings, Table } from "./types.js";

export function formatTime(ns: number): string {
  if (!Number.isFinite(ns)) return "n/a";
  if (ns < 1_000) return `${ns.toFixed(ns < 100 ? 1 : 0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "n/a";
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(perSecond >= 1e7 ? 1 : 2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(perSecond >= 1e4 ? 1 : 2)} k`;
  return perSecond.toFixed(0);
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "n/a";
  return `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`;
}

function columnsOf(table: Table): string[] {
  if (table.valueColumns !== undefined) return ["case", ...table.valueColumns];
  const extra = new Set<string>();
  for (const row of table.rows) for (const key of Object.keys(row.extra)) extra.add(key);
  return ["case", "median / op", "ops/s", "ratio", "±MAD", "p10 / op", ...extra];
}

function cells(row: Row, columns: readonly string[]): string[] {
  return columns.map((column) => {
    switch (column) {
      case "case":
        return row.name;
      case "median / op":
        return formatTime(row.medianNs);
      case "ops/s":
        return formatRate(row.opsPerSec);
      case "ratio":
        return row.reference ? "1.00× (ref)" : formatRatio(row.ratio);
      case "±MAD":
        return `${row.madPct.toFixed(1)} %`;
      case "p10 / op":
        return formatTime(row.p10Ns);
      default:
        return String(row.extra[column] ?? "");
    }
  });
}

function goalLine(goal: Goal): string {
  const verdict = goal.met === null ? "not evaluated" : goal.met ? "met" : "not met";
  return `Goal ${goal.text}: ${verdict} — ${goal.detail}`;
}

/** A table as aligned plain text for the terminal. */
export function renderText(table: Table): string {
  const lines = [`## ${table.id}. ${table.title}`, `   one op = ${table.measures}`];
  if (table.skipped !== undefined) {
    lines.push(`   skipped: ${table.skipped}`);
    return lines.join("\n");
  }
  const columns = columnsOf(table);
  const body = [columns, ...table.rows.map((row) => cells(row, columns))];
  const widths = columns.map((_, i) => Math.max(...body.map((line) => line[i]!.length)));
  const numeric = (i: number): boolean => i > 0 && (i < 6 || table.valueColumns !== undefined);
  const format = (line: string[]): string =>
    "   " + line.map((cell, i) => (numeric(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ");
  lines.push(format(columns), "   " + widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of body.slice(1)) lines.push(format(line));
  for (const goal of table.goals) lines.push(`   ${goalLine(goal)}`);
  for (const note of table.notes) lines.push(`   note: ${note}`);
  return lines.join("\n");
}

/** A table as GitHub markdown, for RESULTS.md. */
export function renderMarkdown(table: Table): string {
  const lines = [`### ${table.id}. ${table.title}`, "", `One op = ${table.measures}.`, ""];
  if (table.skipped !== undefined) {
    lines.push(`Skipped: ${table.skipped}`);
    return lines.join("\n");
  }
  const columns = columnsOf(table);
  lines.push(`| ${columns.join(" | ")} |`);
  lines.push(`|${columns.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`);
  for (const row of table.rows) {
    const line = cells(row, columns).map((cell) => cell.replace(/\|/g, "\\|"));
    if (row.reference) line[0] = `**${line[0]}**`;
    lines.push(`| ${line.join(" | ")} |`);
  }
  lines.push("");
  for (const goal of table.goals) lines.push(`- ${goalLine(goal)}`);
  for (const note of table.notes) lines.push(`- Note: ${note}`);
  return lines.join("\n");
}

export function renderHeader(machine: Machine, settings: RunSettings): string {
  return [
    `Mimic benchmarks — ${settings.quick ? "QUICK run (harness check only; numbers are not meaningful)" : "full run"}`,
    `Node ${machine.node} (V8 ${machine.v8}), ${machine.platform}`,
    `CPU: ${machine.cpuModel} × ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, load average at start ${machine.loadAverageAtStart}`,
    `commit ${machine.gitCommit ?? "unknown"}${
      machine.uncommittedPackages.length > 0 ? ` + uncommitted changes in ${machine.uncommittedPackages.join(", ")}` : ""
    }; ${settings.timeMs} ms per case in ${settings.rounds} interleaved round(s); ratio = median time / reference median (below 1 = faster than the reference)`,
  ].join("\n");
}
