import { appendFileSync } from "node:fs";

/**
 * Prints the figures a test measured (counts, latencies, recovery times), so that a run shows them
 * and RESULTS.md can be written from one. With MIMIC_RELIABILITY_FIGURES set to a file path, they are
 * also appended there as JSON lines.
 */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ name, ...figures });
  process.stdout.write(`\n[reliability] ${line}\n`);
  const file = process.env.MIMIC_RELIABILITY_FIGURES;
  if (file) appendFileSync(file, line + "\n");
}
