import { StateClosedError } from "@mimic/core";
import { performStep } from "./commands.js";
import { describe, type RedisConnection } from "./connection.js";
import { ReadBatcher } from "./read-batcher.js";
import { FencedWriteBatcher } from "./write-batcher.js";
import { runAsync, runSync, stepVerb, toArgument, type RedisStep, type Steps } from "./steps.js";
import type { SyncBridge } from "./sync/bridge.js";

/**
 * Runs a state's operations: asynchronously on its own connection, or synchronously through the
 * worker thread. It also keeps the state's multi-step writes in flight, which invalidations of this
 * process wait for (`settleWrites` steps), so that a write this process started before an
 * invalidation is never stored after it (a plain SET is one command, ordered on the connection).
 *
 * Its asynchronous reads (entries, tag records) and fenced writes are batched per window (see
 * {@link ReadBatcher}, {@link FencedWriteBatcher}): the first of a window goes out at once; those
 * asked after it until the flush (after the microtasks queued before it, then `process.nextTick`:
 * DataLoader's schedule, so the operations that one batch's replies trigger are gathered into the
 * next) go out together. The flush sends the writes first, so a read asked in the same tick as a
 * write of this process sees it.
 */
export class StepRunner {
  readonly #connection: RedisConnection;
  readonly #bridge: SyncBridge;
  readonly #onFirstStep: () => void;
  #started = false;
  #closed = false;
  readonly #writes = new Set<Promise<void>>();
  readonly #reads: ReadBatcher;
  readonly #fencedWrites: FencedWriteBatcher;
  /**
   * Whether a batching window is open: an operation of this tick went out, or is queued, and a
   * flush is scheduled. The first read or fenced write of a window goes out at once (a lone call
   * waits for nothing); those that follow it in the same tick are queued and go out together.
   */
  #flushQueued = false;
  readonly #flush = (): void => {
    this.#flushQueued = false;
    this.#fencedWrites.flush();
    this.#reads.flush();
  };
  readonly #nextTickFlush = (): void => process.nextTick(this.#flush);
  readonly #scheduleFlush = (): void => {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#nextTickFlush);
  };
  /** The clock measurement in flight, shared by the writes that need one meanwhile. */
  #measuring: Promise<unknown> | undefined;
  readonly #performAsync = (step: RedisStep): Promise<unknown> => this.#stepAsync(step);
  readonly #performSync = (step: RedisStep): unknown => this.#stepSync(step);

  /** @param onFirstStep called before the first step of the first operation (of any kind) */
  constructor(connection: RedisConnection, bridge: SyncBridge, onFirstStep: () => void) {
    this.#connection = connection;
    this.#bridge = bridge;
    this.#onFirstStep = onFirstStep;
    this.#reads = new ReadBatcher(connection, this.#scheduleFlush);
    this.#fencedWrites = new FencedWriteBatcher(connection, this.#scheduleFlush);
  }

  /** Runs an operation on the state's connection. */
  async<T>(steps: Steps<T>): Promise<T> {
    return runAsync(steps, this.#performAsync);
  }

  /** Runs an operation through the worker thread, blocking (each step bounded by the timeout). */
  sync<T>(steps: Steps<T>): T {
    return runSync(steps, this.#performSync);
  }

  /** Counts a multi-step write as in flight until it settles. */
  track(write: Promise<unknown>): void {
    const tracked = write.then(
      () => undefined,
      () => undefined,
    );
    this.#writes.add(tracked);
    void tracked.then(() => this.#writes.delete(tracked));
  }

  /** Resolves once the multi-step writes in flight now have settled (each is bounded by the timeout). */
  async settled(): Promise<void> {
    if (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  /** Synchronous steps fail from now on (asynchronous ones fail in the closed connection). */
  close(): void {
    this.#closed = true;
  }

  #stepAsync(step: RedisStep): Promise<unknown> {
    if (!this.#started) this.#start();
    switch (step.op) {
      case "get":
        return this.#reads.read(toArgument(step.key), step.label, this.#leads());
      case "getWithTtl":
        return this.#reads.readWithTtl(step.key, step.label, this.#leads());
      case "fencedSet":
        this.#reads.forgetLed();
        if (this.#leads()) return performStep(this.#connection, step);
        return this.#fencedWrites.write(step);
      case "tagStamps":
        return Promise.all(
          step.records.map((record) => this.#reads.read(toArgument(record), step.label).then((stamp) => (stamp === null ? null : stamp.toString("latin1")))),
        );
      case "clockOffset": {
        if (this.#measuring !== undefined) return this.#measuring;
        const measuring = performStep(this.#connection, step);
        this.#measuring = measuring;
        const done = (): void => {
          if (this.#measuring === measuring) this.#measuring = undefined;
        };
        measuring.then(done, done);
        return measuring;
      }
      case "settleWrites":
        return this.settled();
      default:
        // A write (or removal): reads asked after it must not join a read sent before it.
        this.#reads.forgetLed();
        return performStep(this.#connection, step);
    }
  }

  /**
   * Whether an operation asked now leads a new window (and goes out at once): true when no window is
   * open, which it then opens, so that the operations that follow it in this tick are batched.
   */
  #leads(): boolean {
    if (this.#flushQueued) return false;
    this.#scheduleFlush();
    return true;
  }

  #stepSync(step: RedisStep): unknown {
    if (!this.#started) this.#start();
    // A synchronous write is over when it returns: there is nothing in flight to settle.
    if (step.op === "settleWrites") return undefined;
    if (this.#closed) throw new StateClosedError("RedisState");
    return this.#bridge.call(step, describe(stepVerb(step), step.label));
  }

  #start(): void {
    this.#started = true;
    this.#onFirstStep();
  }
}
