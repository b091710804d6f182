import { Bench } from "tinybench";
import type { Case, Row, RunSettings } from "./types.js";

function median(sorted: readonly number[]): number {
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianAbsoluteDeviation(sorted: readonly number[], center: number): number {
  return median(sorted.map((x) => Math.abs(x - center)).sort((a, b) => a - b));
}

/** Runs one case for one round and returns its samples in milliseconds per sample. */
async function sampleOnce(testCase: Case, timeMs: number, warmupMs: number, settings: RunSettings): Promise<number[]> {
  const bench = new Bench({
    time: timeMs,
    iterations: settings.minIterations,
    warmup: warmupMs > 0,
    warmupTime: warmupMs,
    warmupIterations: settings.quick ? 2 : 8,
    retainSamples: true,
    throws: true,
  });
  const options = {
    async: testCase.async,
    ...(testCase.afterEach === undefined ? {} : { afterEach: testCase.afterEach as () => void }),
  };
  bench.add(testCase.name, testCase.run, options);
  await bench.run();
  const task = bench.tasks[0];
  const result = task?.result;
  if (result === undefined || (result.state !== "completed" && result.state !== "aborted-with-statistics")) {
    const error = result !== undefined && result.state === "errored" ? result.error : undefined;
    throw new Error(`case "${testCase.name}" did not complete (${result?.state ?? "no result"})`, { cause: error });
  }
  return [...(result.latency.samples ?? [])];
}

/**
 * Measures every case of a table. Cases run one after another, `settings.rounds` times in rotated
 * order (120 short rounds of ~10 ms per case in a full run), and each case's samples are pooled over
 * the rounds: load from other processes on this shared machine then lands on every case alike
 * instead of distorting whichever case ran during a busy second.
 */
export async function measureCases(cases: readonly Case[], settings: RunSettings): Promise<Row[]> {
  const references = cases.filter((c) => c.reference === true);
  if (references.length !== 1) throw new Error(`a table needs exactly one reference row, got ${references.length}`);
  const pools = cases.map(() => [] as number[]);
  const executionsBefore = cases.map((c) => c.executions?.() ?? 0);
  for (let round = 0; round < settings.rounds; round++) {
    for (let offset = 0; offset < cases.length; offset++) {
      const index = (offset + round) % cases.length;
      const testCase = cases[index]!;
      const timeMs = (settings.timeMs * (testCase.timeFactor ?? 1)) / settings.rounds;
      // Only the first round warms up: later rounds continue a case that is already optimised.
      const warmupMs = round === 0 ? settings.warmupMs : 0;
      const pool = pools[index]!;
      // A loop, not push(...samples): a fast case yields more samples than the call stack holds arguments.
      for (const sample of await sampleOnce(testCase, timeMs, warmupMs, settings)) pool.push(sample);
    }
  }
  const measured = cases.map((testCase, index) => {
    const perOpNs = pools[index]!.map((ms) => (ms * 1e6) / testCase.ops).sort((a, b) => a - b);
    const medianNs = median(perOpNs);
    const p10Ns = perOpNs[Math.floor((perOpNs.length - 1) * 0.1)] ?? NaN;
    const executions = testCase.executions?.();
    return {
      testCase,
      medianNs,
      p10Ns,
      samples: perOpNs.length,
      madPct: (100 * medianAbsoluteDeviation(perOpNs, medianNs)) / medianNs,
      executions: executions === undefined ? undefined : executions - executionsBefore[index]!,
    };
  });
  const referenceNs = measured.find((m) => m.testCase.reference === true)!.medianNs;
  return measured.map((m) => ({
    name: m.testCase.name,
    reference: m.testCase.reference === true,
    medianNs: m.medianNs,
    p10Ns: m.p10Ns,
    opsPerSec: 1e9 / m.medianNs,
    ratio: m.medianNs / referenceNs,
    samples: m.samples,
    opsPerSample: m.testCase.ops,
    madPct: m.madPct,
    ...(m.executions === undefined ? {} : { executionsWhileMeasuring: m.executions }),
    extra: m.testCase.extra?.() ?? {},
  }));
}
