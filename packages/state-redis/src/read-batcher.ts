import type { RedisArgument } from "redis";
import type { RedisConnection } from "./connection.js";
import { keySlot } from "./key-slot.js";

/** Keys per `MGET` at most: a longer list is split, so one reply never holds the server for long. */
export const MAX_KEYS_PER_MGET = 512;

interface Waiter {
  resolve(bytes: Buffer | null): void;
  reject(reason: unknown): void;
}

/** The distinct keys of one slot read in one tick, and who waits for each. */
interface Group {
  readonly keys: RedisArgument[];
  readonly labels: string[];
  readonly waiters: Waiter[][];
  /** Key → its index in `keys`: strings as they are, bytes by their latin1 text. */
  readonly strings: Map<string, number>;
  readonly bytes: Map<string, number>;
}

const newGroup = (): Group => ({ keys: [], labels: [], waiters: [], strings: new Map(), bytes: new Map() });

/**
 * Auto-batching of the plain reads of one tick (issue 19): every `GET` a state's asynchronous
 * operations ask for until its {@link StepRunner} flushes goes out with the others as one `MGET` per
 * cluster slot (one `GET` for a lone key), each key once. The reads of many concurrent calls thus
 * cost the server one command instead of one per call, and the client one reply to parse. A read is
 * sent no earlier than asked: a write this process sent before it is seen, and a write sent after
 * it in the same tick may be too (a later read can only be fresher).
 */
export class ReadBatcher {
  readonly #connection: RedisConnection;
  readonly #schedule: () => void;
  /** Slot → group (one group, slot 0, outside a cluster), or `undefined` when nothing is queued. */
  #groups: Map<number, Group> | undefined;

  /** @param schedule called when a read is queued with none before it: a flush must follow */
  constructor(connection: RedisConnection, schedule: () => void) {
    this.#connection = connection;
    this.#schedule = schedule;
  }

  /** `GET` of `key` with the other reads of this tick: the bytes, or `null` on a miss. */
  read(key: RedisArgument, label: string): Promise<Buffer | null> {
    let groups = this.#groups;
    if (groups === undefined) {
      this.#groups = groups = new Map();
      this.#schedule();
    }
    const slot = this.#connection.isCluster ? keySlot(key) : 0;
    let group = groups.get(slot);
    if (group === undefined) groups.set(slot, (group = newGroup()));
    const index = typeof key === "string" ? group.strings : group.bytes;
    const id = typeof key === "string" ? key : Buffer.from(key).toString("latin1");
    let at = index.get(id);
    if (at === undefined) {
      at = group.keys.length;
      index.set(id, at);
      group.keys.push(key);
      group.labels.push(label);
      group.waiters.push([]);
    }
    const waiters = group.waiters[at]!;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** Sends the reads queued so far. */
  flush(): void {
    const groups = this.#groups;
    this.#groups = undefined;
    if (groups === undefined) return;
    for (const group of groups.values()) {
      for (let start = 0; start < group.keys.length; start += MAX_KEYS_PER_MGET) {
        this.#sendChunk(group, start, Math.min(start + MAX_KEYS_PER_MGET, group.keys.length));
      }
    }
  }

  #sendChunk(group: Group, start: number, end: number): void {
    const { keys, labels, waiters } = group;
    const fail = (reason: unknown): void => {
      for (let i = start; i < end; i++) for (const waiter of waiters[i]!) waiter.reject(reason);
    };
    const answer = (i: number, bytes: Buffer | null): void => {
      for (const waiter of waiters[i]!) waiter.resolve(bytes);
    };
    if (end - start === 1) {
      this.#connection.get(keys[start]!, labels[start]!).then((bytes) => answer(start, bytes), fail);
      return;
    }
    const chunk = keys.slice(start, end);
    const label = `${labels[start]!} (and ${end - start - 1} more)`;
    (this.#connection.send("MGET", label, chunk[0]!, true, ["MGET", ...chunk]) as Promise<Array<Buffer | null>>).then((replies) => {
      for (let i = start; i < end; i++) answer(i, replies[i - start] ?? null);
    }, fail);
  }
}
