import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import { parseArguments } from "./cli.js";
import { RunContext, SkipScenario } from "./context.js";
import { describeMachine } from "./machine.js";
import { renderHeader, renderMarkdown, renderText } from "./report.js";
import { scenarios } from "./scenarios/index.js";
import type { Table } from "./types.js";

/**
 * `pnpm bench [--quick] [--only 1,2]`: runs every scenario in one process, prints one table per
 * scenario, and writes results/latest.json (and a markdown copy next to it). Goals are reported,
 * never enforced: a goal not met does not fail the run; a scenario that breaks does.
 */
async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  const machine = describeMachine();
  const started = Date.now();
  console.log(renderHeader(machine, options.settings));
  const context = new RunContext(options.settings);
  const tables: Table[] = [];
  const failures: string[] = [];
  const selected = scenarios.filter((s) => options.only.length === 0 || options.only.includes(s.id));
  if (selected.length === 0) throw new Error(`--only ${options.only.join(",")} matches no scenario (ids 1-14 and 5b)`);
  try {
    for (const scenario of selected) {
      const scenarioStart = Date.now();
      let produced: Table[];
      try {
        produced = await scenario.run(context);
      } catch (error) {
        const reason =
          error instanceof SkipScenario ? error.message : `FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
        if (!(error instanceof SkipScenario)) failures.push(`scenario ${scenario.id}: ${reason}`);
        produced = scenario.tables.map((t) => ({ ...t, rows: [], goals: [], notes: [], skipped: reason }));
      }
      for (const table of produced) {
        console.log(`\n${renderText(table)}`);
        tables.push(table);
      }
      console.log(`   (${((Date.now() - scenarioStart) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await context.close();
  }
  const durationSeconds = Math.round((Date.now() - started) / 100) / 10;
  const loadAverageAtEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const goals = tables.flatMap((t) => t.goals.map((g) => ({ table: t.id, ...g })));
  const summary = {
    met: goals.filter((g) => g.met === true).length,
    notMet: goals.filter((g) => g.met === false).length,
    notEvaluated: goals.filter((g) => g.met === null).length,
    skippedTables: tables.filter((t) => t.skipped !== undefined).map((t) => t.id),
  };
  const result = {
    schema: 1,
    date: new Date(started).toISOString(),
    mode: options.settings.quick ? "quick" : "full",
    partial: options.only.length > 0,
    durationSeconds,
    loadAverageAtEnd,
    machine,
    settings: options.settings,
    summary,
    tables,
  };
  mkdirSync(path.dirname(options.outFile), { recursive: true });
  writeFileSync(options.outFile, `${JSON.stringify(result, null, 2)}\n`);
  const markdownFile = options.outFile.replace(/\.json$/, "") + ".md";
  const markdown = [
    "```",
    renderHeader(machine, options.settings),
    `duration ${durationSeconds} s; load average at end ${loadAverageAtEnd}`,
    "```",
    ...tables.map((t) => `\n${renderMarkdown(t)}`),
  ].join("\n");
  writeFileSync(markdownFile, `${markdown}\n`);
  console.log(
    `\nGoals: ${summary.met} met, ${summary.notMet} not met, ${summary.notEvaluated} not evaluated` +
      (summary.skippedTables.length > 0 ? `; skipped tables: ${summary.skippedTables.join(", ")}` : "") +
      `\nWhole run: ${durationSeconds} s (load average at end ${loadAverageAtEnd}). Results: ${path.relative(process.cwd(), options.outFile)} and ${path.relative(process.cwd(), markdownFile)}`,
  );
  for (const failure of failures) console.error(`\n${failure}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    // Peers (bentocache's timers, client sockets) may keep the loop alive after close(); the
    // results are written, so leave now rather than hang a CI job.
    process.exit(code);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
