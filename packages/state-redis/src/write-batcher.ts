import type { RedisConnection } from "./connection.js";
import { performStep } from "./commands.js";
import type { RedisStep } from "./steps.js";

/** Writes per fenced-set script at most: a longer run is split, so no script holds the server long. */
export const MAX_WRITES_PER_SCRIPT = 100;
/** Bytes of values per fenced-set script at most (a write larger than this goes alone). */
export const MAX_BYTES_PER_SCRIPT = 1024 * 1024;

type FencedSet = Extract<RedisStep, { op: "fencedSet" }>;

interface Queued {
  readonly step: FencedSet;
  resolve(stored: boolean): void;
  reject(reason: unknown): void;
}

/**
 * Auto-batching of the fenced writes of one tick on one server (issue 19): after the first of a
 * window (which goes out at once), the `fencedSet` steps a state's asynchronous operations ask for
 * until its {@link StepRunner} flushes go out as one fenced-set script per
 * {@link MAX_WRITES_PER_SCRIPT} writes (or {@link MAX_BYTES_PER_SCRIPT} of values), each write
 * checked against its own records and stored or refused as alone (the whole script is atomic).
 * A batch's items, and the misses of concurrent calls, thus cost the server one script call instead
 * of one per write.
 */
export class FencedWriteBatcher {
  readonly #connection: RedisConnection;
  readonly #schedule: () => void;
  #queue: Queued[] = [];

  /** @param schedule called when a write is queued with none before it: a flush must follow */
  constructor(connection: RedisConnection, schedule: () => void) {
    this.#connection = connection;
    this.#schedule = schedule;
  }

  /** Queues a fenced write: whether it was stored. */
  write(step: FencedSet): Promise<boolean> {
    if (this.#queue.length === 0) this.#schedule();
    return new Promise((resolve, reject) => this.#queue.push({ step, resolve, reject }));
  }

  /** Sends the writes queued so far. */
  flush(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    let chunk: Queued[] = [];
    let bytes = 0;
    for (const queued of queue) {
      const size = queued.step.bytes.byteLength;
      if (chunk.length > 0 && (chunk.length === MAX_WRITES_PER_SCRIPT || bytes + size > MAX_BYTES_PER_SCRIPT)) {
        this.#send(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(queued);
      bytes += size;
    }
    if (chunk.length > 0) this.#send(chunk);
  }

  #send(chunk: Queued[]): void {
    const head = chunk[0]!.step;
    const step: RedisStep = {
      op: "fencedSetMany",
      writes: chunk.map(({ step: { key, bytes, px, start, records, fences } }) => ({ key, bytes, px, start, records, fences })),
      epoch: head.epoch,
      label: `${head.label} (and ${chunk.length - 1} more)`,
    };
    performStep(this.#connection, step).then(
      (stored) => chunk.forEach((queued, i) => queued.resolve((stored as boolean[])[i] === true)),
      (error: unknown) => chunk.forEach((queued) => queued.reject(error)),
    );
  }
}
