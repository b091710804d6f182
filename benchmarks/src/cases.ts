import { asyncBatch, concurrentBatch, type Consume, syncBatch, windowLoop } from "./loops.js";
import type { Case } from "./types.js";

type AnyFunction = (...args: never[]) => unknown;

/** How a hit case is driven. */
export interface HitCaseSpec {
  readonly name: string;
  readonly reference?: boolean;
  /** The memoized function (or get-or-set wrapper) under test. */
  readonly memoized: AnyFunction;
  /** Call arguments, one column per parameter; every row of the columns is one measured call. */
  readonly columns: readonly (readonly unknown[])[];
  /** Arguments that fill the cache first (equal by value to `columns`); default `columns`. */
  readonly prefill?: readonly (readonly unknown[])[];
  /** `sequential`: sync calls; `await`: each async call awaited before the next; `inflight`: all at once. */
  readonly mode: "sync" | "await" | "inflight";
  /** The checksum a batch must return: computed from the unmemoized function by the scenario. */
  readonly expected: number;
  readonly consume?: Consume;
  /** Executions of the underlying function so far. */
  readonly executions: () => number;
}

function batchFor(spec: HitCaseSpec, columns: readonly (readonly unknown[])[]): () => unknown {
  const consume = spec.consume ?? "number";
  if (spec.mode === "sync") return syncBatch(spec.memoized, columns, consume);
  if (spec.mode === "await") return asyncBatch(spec.memoized, columns, consume);
  return concurrentBatch(spec.memoized, columns, consume);
}

/**
 * How long one sample should take. Long enough that the timer and tinybench's bookkeeping (a few
 * hundred ns) are noise next to it, short enough that on a shared, loaded machine most samples
 * fit inside one scheduler time slice, so the median is a clean sample rather than a preempted one.
 */
const TARGET_SAMPLE_NS = 25_000;

function now(): number {
  return performance.now() * 1e6;
}

/**
 * A case that measures hits: the cache is filled first, then one pass over the data is checked
 * against the unmemoized results, so a misconfigured peer (a cache too small, a key that never
 * matches) shows up as an error or as executions while measuring instead of a flattering number.
 * Sequential cases are then timed in windows of calls sized to about {@link TARGET_SAMPLE_NS}.
 */
export async function hitCase(spec: HitCaseSpec): Promise<Case> {
  const pass = batchFor(spec, spec.columns);
  await batchFor(spec, spec.prefill ?? spec.columns)();
  const checksum = await pass();
  if (checksum !== spec.expected) {
    throw new Error(`case "${spec.name}" returned checksum ${String(checksum)}, expected ${spec.expected}: wrong results`);
  }
  const calls = spec.columns[0]!.length;
  const base = { name: spec.name, ...(spec.reference === true ? { reference: true } : {}), executions: spec.executions };
  if (spec.mode === "inflight") return { ...base, ops: calls, run: pass, async: true };
  // Calibrate with a window loop like the measured one: the fastest run over ~100 ms, by which time
  // the JIT has optimised the loop even on a loaded machine (its compiler thread competes for CPU).
  const consume = spec.consume ?? "number";
  const async = spec.mode === "await";
  const probe = windowLoop(spec.memoized, spec.columns, calls, async, consume);
  const calibrateUntil = now() + 100e6;
  let fastest = Infinity;
  for (let i = 0; i < 5 || (i < 10_000 && now() < calibrateUntil); i++) {
    const started = now();
    await probe();
    fastest = Math.min(fastest, (now() - started) / calls);
  }
  const size = Math.max(1, Math.min(1_000_000, Math.round(TARGET_SAMPLE_NS / Math.max(fastest, 0.5))));
  return { ...base, ops: size, run: windowLoop(spec.memoized, spec.columns, size, async, consume), async };
}

/** The checksum {@link hitCase} expects, from the plain function. */
export async function checksumOf(
  plain: (...args: never[]) => unknown,
  columns: readonly (readonly unknown[])[],
  consume: Consume = "number",
): Promise<number> {
  let sum = 0;
  for (let i = 0; i < columns[0]!.length; i++) {
    const args = columns.map((column) => column[i]) as never[];
    const value = (await plain(...args)) as number | { id: number };
    sum = (sum + (consume === "number" ? (value as number) : (value as { id: number }).id)) | 0;
  }
  return sum;
}

/** A function with an execution counter, so each case counts its own executions. */
export interface Counted<F> {
  readonly fn: F;
  readonly executions: () => number;
}
