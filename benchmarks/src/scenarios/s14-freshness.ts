import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Mime } from "@mimic/core";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { createCache } from "cache-manager";
import { formatTime } from "../report.js";
import type { Scenario } from "../scenario.js";
import type { Goal, Row } from "../types.js";

/**
 * Scenario 14 (issue 20): one hot key hit in a loop across its expiry. The function takes ~20 ms
 * (`setTimeout(20)`); the loop awaits each call, then waits ~1 ms, for a few ttl periods. What
 * matters is whether a caller ever waits for the function at expiry, and how often it runs.
 */

/** The function's run time (a slow query). */
const FUNCTION_MS = 20;
/** A call slower than this waited for the function (a hit is micro-seconds). */
const WAITED_MS = 5;
/** cache-manager's `refreshThreshold` as a share of the ttl (its README: ttl 10 s, threshold 3 s). */
const THRESHOLD_SHARE = 0.25;

const PLAIN = "Mimic: Mime({ ttl })";
const REFRESH_AHEAD = "Mimic: Mime({ ttl, refreshAhead: true })";
/** The same loop with no cache and no function: what this machine's pauses alone do to the worst call. */
const FLOOR = "floor, not a peer: await of an already-resolved value (no cache)";

type Call = () => Promise<number>;

interface Timing {
  /** Seconds. */
  readonly ttl: number;
  /** How many ttl periods each row runs. */
  readonly periods: number;
}

/** One row's loop: when each call started and how long it took, and when each run of the function started and ended (ms since the loop began). */
interface LoopResult {
  readonly callStartsMs: Float64Array;
  readonly latenciesMs: Float64Array;
  readonly executionStartsMs: readonly number[];
  readonly executionEndsMs: readonly number[];
}

/** A counted slow function: its value is how many times it ran, so a stale answer is visible. */
function slowCounter(): { fn: () => Promise<number>; starts: number[]; ends: number[]; origin: { at: number } } {
  const starts: number[] = [];
  const ends: number[] = [];
  const origin = { at: 0 };
  return {
    starts,
    ends,
    origin,
    fn: async function loadRates(): Promise<number> {
      starts.push(performance.now() - origin.at);
      const run = starts.length;
      await sleep(FUNCTION_MS);
      ends.push(performance.now() - origin.at);
      return run;
    },
  };
}

async function loop(call: Call, counter: ReturnType<typeof slowCounter>, timing: Timing): Promise<LoopResult> {
  // The first call fills the cache (a miss the caller waits for); it is not measured.
  if ((await call()) !== 1) throw new Error("the first call did not run the function once");
  counter.starts.length = 0;
  counter.ends.length = 0;
  const callStarts: number[] = [];
  const latencies: number[] = [];
  const origin = performance.now();
  counter.origin.at = origin;
  const endAt = origin + timing.ttl * 1000 * timing.periods;
  for (let now = origin; now < endAt; now = performance.now()) {
    const started = performance.now();
    const value = await call();
    callStarts.push(started - origin);
    latencies.push(performance.now() - started);
    if (typeof value !== "number" || value < 1) throw new Error(`a call returned ${String(value)}`);
    await sleep(1);
  }
  // A refresh started near the end may still be running: let it finish so its end is known.
  await sleep(FUNCTION_MS * 3);
  return {
    callStartsMs: Float64Array.from(callStarts),
    latenciesMs: Float64Array.from(latencies),
    executionStartsMs: [...counter.starts],
    executionEndsMs: [...counter.ends],
  };
}

/**
 * Calls that waited for the function: slower than {@link WAITED_MS} and overlapping one of its runs.
 * A slow call with no run in flight was held up by something else (a GC or scheduler pause); one that
 * overlaps a background refresh is counted anyway, which can only count against the row.
 */
function waitedForFunction(result: LoopResult): number {
  let waited = 0;
  result.latenciesMs.forEach((latency, i) => {
    if (latency > WAITED_MS && overlapsRun(result, i)) waited++;
  });
  return waited;
}

/** Whether call `i` was under way while the function ran (a run started before it ended and ended after it started). */
function overlapsRun(result: LoopResult, i: number): boolean {
  const from = result.callStartsMs[i]!;
  const to = from + result.latenciesMs[i]!;
  return result.executionStartsMs.some((start, run) => start < to && (result.executionEndsMs[run] ?? Infinity) > from);
}

/** The worst latency of the calls made while no run of the function was in flight: this machine's own pauses. */
function worstWithoutRun(result: LoopResult): number {
  let worst = 0;
  result.latenciesMs.forEach((latency, i) => {
    if (latency > worst && !overlapsRun(result, i)) worst = latency;
  });
  return worst;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * q))] ?? NaN;
}

function toRow(name: string, reference: boolean, result: LoopResult, timing: Timing): Row {
  const sorted = Float64Array.from(result.latenciesMs).sort();
  const medianMs = quantile(sorted, 0.5);
  const deviations = Float64Array.from(sorted, (x) => Math.abs(x - medianMs)).sort();
  const periodMs = timing.ttl * 1000;
  const perPeriod = new Array<number>(timing.periods).fill(0);
  for (const at of result.executionStartsMs) {
    const period = Math.min(timing.periods - 1, Math.floor(at / periodMs));
    perPeriod[period]!++;
  }
  const executions = result.executionStartsMs.length;
  return {
    name,
    reference,
    medianNs: medianMs * 1e6,
    p10Ns: quantile(sorted, 0.1) * 1e6,
    opsPerSec: 1e3 / medianMs,
    ratio: NaN,
    samples: sorted.length,
    opsPerSample: 1,
    madPct: (100 * quantile(deviations, 0.5)) / medianMs,
    executionsWhileMeasuring: executions,
    extra: {
      calls: sorted.length,
      "p99.9": formatTime(quantile(sorted, 0.999) * 1e6),
      "max latency": formatTime((sorted[sorted.length - 1] ?? NaN) * 1e6),
      "max, no run in flight": formatTime(worstWithoutRun(result) * 1e6),
      [`calls > ${WAITED_MS} ms`]: sorted.filter((ms) => ms > WAITED_MS).length,
      "waited for fn": waitedForFunction(result),
      "fn runs": executions,
      "runs per ttl period": perPeriod.join(" / "),
    },
  };
}

function withRatios(rows: Row[]): Row[] {
  const reference = rows.find((row) => row.reference)!;
  return rows.map((row) => ({ ...row, ratio: row.medianNs / reference.medianNs }));
}

function goalsFor(rows: readonly Row[], maxNsByRow: ReadonlyMap<string, number>, periods: number): Goal[] {
  const row = rows.find((r) => r.name === REFRESH_AHEAD);
  const floorMaxNs = maxNsByRow.get(FLOOR);
  const noWait = "(14) with refreshAhead, no call waits for the function (max latency ≤ 10× a hit)";
  const once = "(14) with refreshAhead, the function runs at most once per ttl period";
  if (row === undefined) return [noWait, once].map((text) => ({ text, met: null, detail: `row missing: ${REFRESH_AHEAD}` }));
  const slow = Number(row.extra[`calls > ${WAITED_MS} ms`]);
  const waited = Number(row.extra["waited for fn"]);
  const perPeriod = String(row.extra["runs per ttl period"]).split(" / ").map(Number);
  const worst = Math.max(...perPeriod);
  const maxNs = maxNsByRow.get(row.name)!;
  return [
    {
      text: noWait,
      met: maxNs <= 10 * row.medianNs,
      detail:
        `max ${formatTime(maxNs)} vs a hit (median) ${formatTime(row.medianNs)}: ${(maxNs / row.medianNs).toFixed(1)}× (limit 10×); ` +
        `the worst call with no run of the function in flight took ${String(row.extra["max, no run in flight"])}; ` +
        `${waited} of ${row.samples} calls waited for the function (over ${WAITED_MS} ms while it ran; it takes ${FUNCTION_MS} ms), ${slow} took over ${WAITED_MS} ms in all; ` +
        `the floor row (no cache, no function) had its worst call at ${floorMaxNs === undefined ? "?" : formatTime(floorMaxNs)}` +
        (floorMaxNs === undefined ? "" : `: ${(floorMaxNs / row.medianNs).toFixed(1)}× this row's hit`),
    },
    {
      text: once,
      met: worst <= 1,
      detail: `runs per ttl period ${perPeriod.join(" / ")} over ${periods} periods (most in one period: ${worst})`,
    },
  ];
}

const table = {
  id: "14",
  title: "Freshness: a hot key across its expiry (refresh ahead)",
  measures: `one awaited call of a hot key whose function takes ~${FUNCTION_MS} ms, in a loop (~1 ms pause between calls) running over several ttl periods; median / op is a hit's latency`,
};

export const freshness: Scenario = {
  id: "14",
  title: table.title,
  tables: [table],
  async run(context) {
    const timing: Timing = context.settings.quick ? { ttl: 0.4, periods: 2 } : { ttl: 1, periods: 3 };
    const ttlMs = timing.ttl * 1000;
    const cacheManager = createCache({ ttl: ttlMs, refreshThreshold: ttlMs * THRESHOLD_SHARE });
    context.defer(() => cacheManager.disconnect());
    const bento = new BentoCache({
      default: "memory",
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 1_000 })) },
    });
    context.defer(() => bento.disconnectAll());
    const rowsSpec: { name: string; reference?: boolean; wrap: (fn: () => Promise<number>) => Call }[] = [
      { name: FLOOR, wrap: () => () => Promise.resolve(1) },
      { name: PLAIN, reference: true, wrap: (fn) => Mime({ ttl: timing.ttl, name: "s14.plain" })(fn) },
      { name: REFRESH_AHEAD, wrap: (fn) => Mime({ ttl: timing.ttl, refreshAhead: true, name: "s14.refreshAhead" })(fn) },
      {
        name: "Mimic: Mime({ ttl, staleWhileRevalidate: ttl })",
        wrap: (fn) => Mime({ ttl: timing.ttl, staleWhileRevalidate: timing.ttl, name: "s14.swr" })(fn),
      },
      {
        name: `cache-manager wrap, createCache({ ttl, refreshThreshold: ${THRESHOLD_SHARE} × ttl })`,
        wrap: (fn) => () => cacheManager.wrap("s14:rates", fn),
      },
      {
        name: "bentocache getOrSet { ttl, grace: '1h' } (memory driver)",
        wrap: (fn) => () => bento.getOrSet({ key: "s14:rates", factory: fn, ttl: ttlMs, grace: "1h" }),
      },
    ];
    const rows: Row[] = [];
    const maxNsByRow = new Map<string, number>();
    for (const spec of rowsSpec) {
      const counter = slowCounter();
      const result = await loop(spec.wrap(counter.fn), counter, timing);
      rows.push(toRow(spec.name, spec.reference === true, result, timing));
      maxNsByRow.set(spec.name, result.latenciesMs.reduce((a, b) => Math.max(a, b), 0) * 1e6);
    }
    const measured = withRatios(rows);
    return [
      {
        ...table,
        rows: measured,
        goals: goalsFor(measured, maxNsByRow, timing.periods),
        notes: [
          `ttl ${timing.ttl} s, ${timing.periods} ttl periods per row, rows one after another; the first call of each row (the miss that fills the cache) is not measured, and periods are counted from the first measured call.`,
          `"waited for fn" counts the calls that took over ${WAITED_MS} ms while a run of the ${FUNCTION_MS} ms function was in flight (a slow call with no run in flight was paused by something else: GC, the scheduler of this shared 2-core machine; "calls > ${WAITED_MS} ms" counts both). With one caller in a loop, a plain ttl makes one caller wait per expiry (more with concurrent callers). That count is the main evidence; the worst latency also catches machine pauses.`,
          `"${FLOOR}" runs the same loop around a call that returns a resolved promise: its worst latency is what this shared machine's own pauses (scheduler, GC of the loop's own timers) put on any row, and the lowest max any code could show here.`,
          "ratio compares the median call latency (a hit) with the plain-ttl row; ops/s = 1 / median.",
          "Mimic refreshAhead is XFetch: a hit recomputes in the background with probability exp(−time to expiry / (Δ·β)), Δ = the measured 20 ms, β = 1; with a call every ~1 ms that lands tens of ms before expiry.",
          `cache-manager refreshes in the background when the remaining ttl is below refreshThreshold (${THRESHOLD_SHARE} × ttl here); bentocache's grace period with its default soft timeout 0 returns the expired value at once and refreshes in the background.`,
        ],
      },
    ];
  },
};
