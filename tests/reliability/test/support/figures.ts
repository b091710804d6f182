import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";

/**
 * Where the figures go: `MIMIC_RELIABILITY_FIGURES` if set, else `reliability-figures.jsonl` in the
 * run's results directory (`.test-results/` at the repository root, as `pnpm test` sets
 * `MIMIC_TEST_RESULTS_DIR`). Kept out of the test output, which stays quiet unless a test fails.
 */
export function figuresFile(): string {
  const explicit = process.env.MIMIC_RELIABILITY_FIGURES;
  if (explicit) return explicit;
  const dir = process.env.MIMIC_TEST_RESULTS_DIR || path.resolve(__dirname, "../../../../.test-results");
  return path.join(dir, "reliability-figures.jsonl");
}

/**
 * Records the figures a test measured (counts, latencies, recovery times) as one JSON line in
 * {@link figuresFile}, so that RESULTS.md can be written from one run.
 */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const file = figuresFile();
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, JSON.stringify({ name, ...figures }) + "\n");
}
