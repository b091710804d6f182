import type { Child } from "./children";

/** What one redis-load worker reports (see workers/redis-load.mjs). */
export interface LoadResult {
  index: number;
  starts: number[];
  latencies: number[];
  flags: number[];
  /** Per call: the operation timeouts reported while it was in flight (that it waited for). */
  timeouts: number[];
  failures: string[];
  executions: number;
  skipped: number;
  /** When each scheduling-lag sample was taken (epoch ms). */
  lagAt: number[];
  /** How late a 10 ms timer fired, per sample (ms). */
  lag: number[];
  reported: Record<string, number>;
}

/** Flags of a call. */
export const SETTLED = 1;
export const HIT = 2;
export const WRONG = 4;
export const REJECTED = 8;
/** The call joined an execution in flight for its key (neither a hit nor a miss). */
export const JOINED = 16;

/** One call, from any worker. */
export interface Call {
  start: number;
  latency: number;
  /**
   * How long the call's process was stalled while the call was in flight (not running its timers
   * on schedule, waiting for a core): the sum of the lateness of the 10 ms probe timer over the call.
   */
  stalled: number;
  /** Operation timeouts the call waited for (reported to onError while it was in flight). */
  timeouts: number;
  flags: number;
}

/** The first index of the sorted `times` at or after `time`. */
function firstAtOrAfter(times: readonly number[], time: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (times[mid]! < time) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The calls of every worker, each with the stall its process suffered during it, by start time. */
export function merge(results: readonly LoadResult[]): Call[] {
  const calls: Call[] = [];
  for (const result of results) {
    for (let i = 0; i < result.starts.length; i++) {
      const start = result.starts[i]!;
      const latency = result.latencies[i]!;
      const end = start + latency;
      // A probe that fired at `at`, `lateness` late, saw the process kept from its timers over
      // [at - lateness, at] (descheduled, or catching up on a backlog after that); the part of that
      // span inside the call counts. The spans are disjoint and in order, so the first one that
      // starts after the call ends is the last to look at.
      let stalled = 0;
      for (let k = firstAtOrAfter(result.lagAt, start); k < result.lagAt.length && result.lagAt[k]! - result.lag[k]! < end; k++) {
        const at = result.lagAt[k]!;
        stalled += Math.max(0, Math.min(at, end) - Math.max(at - result.lag[k]!, start));
      }
      calls.push({ start, latency, stalled, timeouts: result.timeouts[i] ?? 0, flags: result.flags[i]! });
    }
  }
  return calls.sort((a, b) => a.start - b.start);
}

/** The q-quantile (0..1) of `values` by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Counts and latency figures of a set of calls. */
export interface Summary {
  calls: number;
  failed: number;
  wrong: number;
  hits: number;
  /** Calls that joined an execution in flight (counted in `calls`, not in `hits`). */
  joined: number;
  hitRate: number;
  p50: number;
  p99: number;
  max: number;
  /**
   * 99th percentile of each call's latency minus the stall of its process during the call: the time
   * the call spent waiting for the cache and the function rather than for the machine.
   */
  p99Unstalled: number;
  /** The most operation timeouts one call waited for. */
  maxTimeoutsWaited: number;
  /** Calls that waited for more than one operation timeout (more than timeout + function time). */
  waitedForTwoTimeouts: number;
}

const round = (x: number): number => Math.round(x * 10) / 10;
const ratio = (part: number, whole: number): number => (whole === 0 ? NaN : Math.round((part / whole) * 1000) / 1000);

export function summarize(calls: readonly Call[]): Summary {
  const latencies = calls.map((c) => c.latency);
  const hits = calls.filter((c) => c.flags & HIT).length;
  return {
    calls: calls.length,
    failed: calls.filter((c) => c.flags & REJECTED || !(c.flags & SETTLED)).length,
    wrong: calls.filter((c) => c.flags & WRONG).length,
    hits,
    joined: calls.filter((c) => c.flags & JOINED).length,
    hitRate: ratio(hits, calls.length),
    p50: round(quantile(latencies, 0.5)),
    p99: round(quantile(latencies, 0.99)),
    max: round(Math.max(...latencies)),
    p99Unstalled: round(quantile(calls.map((c) => Math.max(0, c.latency - c.stalled)), 0.99)),
    maxTimeoutsWaited: calls.reduce((most, c) => Math.max(most, c.timeouts), 0),
    waitedForTwoTimeouts: calls.filter((c) => c.timeouts > 1).length,
  };
}

/** Calls started in [from, to). */
export function between(calls: readonly Call[], from: number, to: number): Call[] {
  return calls.filter((c) => c.start >= from && c.start < to);
}

/** Calls started in one time bucket. */
export interface Bucket {
  /** Start of the bucket, ms after the reference time. */
  at: number;
  calls: number;
  hitRate: number;
  p50: number;
  p99: number;
}

/**
 * Hit rate per `bucketMs` bucket of call start times from `from` to `to`, and the recovery time: the
 * end of the first two consecutive buckets that both have a hit rate above `threshold` (relative to
 * `from`, in ms), or `Infinity` if that never happens. Two buckets, so that one lucky bucket is not a
 * recovery; not "every later bucket", so that a later stall of the machine is not read as a failure
 * to recover. Buckets with fewer than `minCalls` calls (the tail of the run) are left out.
 */
export function recovery(
  calls: readonly Call[],
  from: number,
  to: number,
  { bucketMs = 250, threshold = 0.9, minCalls = 20 } = {},
): { recoveryMs: number; buckets: Bucket[] } {
  const buckets: Bucket[] = [];
  for (let at = from; at < to; at += bucketMs) {
    const inBucket = between(calls, at, Math.min(at + bucketMs, to));
    if (inBucket.length < minCalls) continue;
    const hits = inBucket.filter((c) => c.flags & HIT).length;
    const latencies = inBucket.map((c) => c.latency);
    buckets.push({
      at: Math.round(at - from),
      calls: inBucket.length,
      hitRate: ratio(hits, inBucket.length),
      p50: round(quantile(latencies, 0.5)),
      p99: round(quantile(latencies, 0.99)),
    });
  }
  let recoveryMs = Infinity;
  for (let i = 1; i < buckets.length; i++) {
    if (buckets[i - 1]!.hitRate > threshold && buckets[i]!.hitRate > threshold) {
      recoveryMs = buckets[i]!.at + bucketMs;
      break;
    }
  }
  return { recoveryMs, buckets };
}

/** Waits for every worker's result and its exit by itself. */
export async function collect(workers: readonly Child[], timeoutMs: number): Promise<LoadResult[]> {
  const results = await Promise.all(workers.map((w) => w.message<LoadResult>("result", timeoutMs)));
  const exits = await Promise.all(workers.map((w) => w.exit(15_000)));
  for (const [i, exit] of exits.entries()) {
    if (exit.code !== 0) throw new Error(`load worker ${i} exited with ${exit.code ?? exit.signal}:\n${workers[i]!.output()}`);
  }
  return results;
}

/** Adds up what the workers' onError handlers received, by error code. */
export function reportedErrors(results: readonly LoadResult[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const result of results) {
    for (const [code, count] of Object.entries(result.reported)) total[code] = (total[code] ?? 0) + count;
  }
  return total;
}

/**
 * The 99th percentile of how late the workers' timers fired in [from, to): the scheduling delay the
 * machine added to calls started then, whatever the cache did.
 */
export function schedulingDelay(results: readonly LoadResult[], from: number, to: number): number {
  const samples: number[] = [];
  for (const result of results) {
    result.lagAt.forEach((at, i) => {
      if (at >= from && at < to) samples.push(result.lag[i]!);
    });
  }
  return samples.length === 0 ? 0 : round(quantile(samples, 0.99));
}

/** How long the workers' processes were stalled in [from, to), on average over the workers (ms). */
export function stalledBetween(results: readonly LoadResult[], from: number, to: number): number {
  let total = 0;
  for (const result of results) {
    for (let k = firstAtOrAfter(result.lagAt, from); k < result.lagAt.length && result.lagAt[k]! - result.lag[k]! < to; k++) {
      const at = result.lagAt[k]!;
      total += Math.max(0, Math.min(at, to) - Math.max(at - result.lag[k]!, from));
    }
  }
  return results.length === 0 ? 0 : round(total / results.length);
}
