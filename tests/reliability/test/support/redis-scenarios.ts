import { startRedisServer, type RedisServerHandle } from "../../../../packages/state-redis/test/harness";
import { epochNow, forkWorker, sleepUntil, type Child } from "./children";
import { recordFigures } from "./figures";
import { between, collect, merge, recovery, reportedErrors, schedulingDelay, stalledBetween, summarize, type Bucket, type Summary } from "./load";

// Items 1 and 2 of the reliability issue: 4 processes call a memoized async function on a real
// redis-server at ~1,000 calls/s in total while the server is killed and restarted, or hung.
export const WORKERS = 4;
export const CALLS_PER_SECOND = 1000;
export const KEYS = 200;
/** The RedisState operation timeout (its documented default). */
export const TIMEOUT_MS = 200;
/** How long the memoized function takes. */
export const FUNCTION_MS = 5;
/**
 * A call may take the state's timeout (one Redis operation that gets no answer) plus the function's
 * own time, plus SCHEDULING_MARGIN_MS: a fixed 100 ms for timers that fire late and processes that
 * wait for a core while 4 load workers, redis-server and jest share 2 cores. The margin stays well
 * under the timeout, so a call that waits for two timeouts in a row (≈ 2 × 200 + 5 ms) cannot hide in it.
 *
 * What a busy machine adds beyond that is measured, not guessed: every worker runs a 10 ms probe
 * timer, and the time its process was stalled during a call (the probe firing late) is taken off that
 * call's latency before the bound is checked (`p99Unstalled`). Raw latencies are reported alongside.
 */
export const SCHEDULING_MARGIN_MS = 100;
/**
 * Hits must be back above 90 % within this long after Redis is reachable again, plus the time the
 * workers were measurably stalled during that window (as for latencies, the machine's share is taken off).
 */
export const RECOVERY_BOUND_MS = 2000;
const RECOVERY_BUCKET_MS = 100;

/** What a scenario measured. */
export interface Outcome {
  all: Summary;
  /** Calls while the fault was on (kill: server down; hang: server stopped, its last timeout excluded). */
  fault: Summary;
  /** Calls in the last second before the fault, the server healthy and the keys stored. */
  before: Summary;
  /** Calls after the server was back. */
  after: Summary;
  /** ms from the server being back to the end of the first two consecutive 100 ms buckets with hit rates above 90 %. */
  recoveryMs: number;
  /** 99th percentile of timer lateness in the workers over the run. */
  schedulingDelay: number;
  /** ms the workers were stalled (on average) in the 2 s after the server was back. */
  stalledAfterBack: number;
  /** timeout + function time + margin, for latencies with the measured stalls taken off. */
  latencyBound: number;
  recoveryBound: number;
  errors: Record<string, number>;
  failures: string[];
  expectedCalls: number;
}

async function startLoad(server: RedisServerHandle, name: string, durationMs: number): Promise<{ workers: Child[]; startAt: number }> {
  const workers = Array.from({ length: WORKERS }, (_, index) =>
    forkWorker("redis-load.mjs", [
      JSON.stringify({
        url: server.url,
        prefix: `reliability:${name}:`,
        timeout: TIMEOUT_MS,
        functionMs: FUNCTION_MS,
        callsPerSecond: CALLS_PER_SECOND / WORKERS,
        durationMs,
        keys: KEYS,
        index,
      }),
    ]),
  );
  try {
    await Promise.all(workers.map((w) => w.message("ready", 60_000)));
  } catch (error) {
    for (const w of workers) w.kill();
    throw error;
  }
  const startAt = epochNow() + 250;
  for (const w of workers) w.send({ type: "go", startAt });
  return { workers, startAt };
}

const round = (ms: number): number => Math.round(ms);

/**
 * Runs the load for `durationMs` on a fresh server; `fault` is called with the server and the start
 * time and returns when the fault began and when the server was back.
 */
async function scenario(
  name: string,
  durationMs: number,
  fault: (server: RedisServerHandle, startAt: number) => Promise<{ from: number; faultEnd: number; back: number; marks: Record<string, number> }>,
): Promise<Outcome> {
  const server = await startRedisServer();
  try {
    const { workers, startAt } = await startLoad(server, name, durationMs);
    const { from, faultEnd, back, marks } = await fault(server, startAt);
    const results = await collect(workers, durationMs + 30_000);
    const end = startAt + durationMs;
    const calls = merge(results);
    const schedulingDelayAll = schedulingDelay(results, startAt, end);
    const stalledAfterBack = stalledBetween(results, back, back + RECOVERY_BOUND_MS);
    const { recoveryMs, buckets } = recovery(calls, back, end, { bucketMs: RECOVERY_BUCKET_MS });
    const outcome: Outcome = {
      all: summarize(calls),
      before: summarize(between(calls, from - 1000, from)),
      fault: summarize(between(calls, from + 100, faultEnd)),
      after: summarize(between(calls, back, end)),
      recoveryMs,
      schedulingDelay: schedulingDelayAll,
      stalledAfterBack,
      latencyBound: TIMEOUT_MS + FUNCTION_MS + SCHEDULING_MARGIN_MS,
      recoveryBound: round(RECOVERY_BOUND_MS + stalledAfterBack),
      errors: reportedErrors(results),
      failures: results.flatMap((r) => r.failures),
      expectedCalls: (CALLS_PER_SECOND * durationMs) / 1000,
    };
    const timeline: Bucket[] = recovery(calls, startAt, end, { bucketMs: 500, minCalls: 1 }).buckets;
    recordFigures(name, {
      ...outcome,
      failures: outcome.failures.length,
      executions: results.reduce((n, r) => n + r.executions, 0),
      marksMs: Object.fromEntries(Object.entries(marks).map(([mark, at]) => [mark, round(at - startAt)])),
      bucketsAfterBack: buckets.slice(0, 10),
      timeline,
    });
    return outcome;
  } finally {
    await server.stop();
  }
}

/** Item 1: the server is SIGKILLed 3 s into a 10 s run and restarted (empty) at 6 s. */
export function killAndRestart(): Promise<Outcome> {
  return scenario("redis-killed", 10_000, async (server, startAt) => {
    await sleepUntil(startAt + 3000);
    server.kill("SIGKILL");
    const killed = epochNow();
    await sleepUntil(startAt + 6000);
    const restarting = epochNow();
    await server.restart();
    // "Back" is when the new server answers PING; calls before that (from `restarting` on) may
    // already reach it, so the fault window ends when the restart began.
    const back = epochNow();
    return { from: killed, faultEnd: restarting, back, marks: { killed, restarting, back } };
  });
}

/** Item 2: the server is SIGSTOPped 2.5 s into a 9.5 s run and SIGCONTed 3 s later. */
export function hang(): Promise<Outcome> {
  return scenario("redis-hung", 9500, async (server, startAt) => {
    await sleepUntil(startAt + 2500);
    server.pause();
    const paused = epochNow();
    await sleepUntil(startAt + 5500);
    server.resume();
    const resumed = epochNow();
    // Calls started in the last timeout before SIGCONT may still be answered once the server resumes.
    return { from: paused, faultEnd: resumed - TIMEOUT_MS - 100, back: resumed, marks: { paused, resumed } };
  });
}
