import type { RedisArgument } from "redis";
import type { RedisConnection } from "./connection.js";
import { runScriptOn } from "./commands.js";
import { keySlot } from "./key-slot.js";
import { GET_WITH_TTL_MANY } from "./scripts.js";

/** Keys per `MGET` at most: a longer list is split, so one reply never holds the server for long. */
export const MAX_KEYS_PER_MGET = 512;

/** A read's answer: the bytes (`null`: none) and, for reads that asked, the milliseconds left (see getWithTtl). */
type Answer = readonly [Buffer | null, number];

interface Waiter {
  resolve(answer: Answer): void;
  reject(reason: unknown): void;
}

/** The distinct keys of one slot read in one tick, and who waits for each. */
interface Group {
  readonly keys: RedisArgument[];
  readonly labels: string[];
  readonly waiters: Waiter[][];
  /** Whether some read of this group wants the keys' remaining lives too (PTTL). */
  withTtl: boolean;
  /** Key id (see `idOf`) → its index in `keys`. */
  readonly index: Map<string, number>;
}

const newGroup = (): Group => ({ keys: [], labels: [], waiters: [], index: new Map(), withTtl: false });

/** A key's id in maps: `s` + a string, `b` + bytes as latin1 (a string's text may equal other bytes' latin1 text). */
const idOf = (key: RedisArgument): string => (typeof key === "string" ? `s${key}` : `b${Buffer.from(key).toString("latin1")}`);

/**
 * A read that went out at once: its bytes (a plain read) or its answer (a read with the remaining
 * life, which plain reads of its key join too).
 */
interface Led {
  bytes: Promise<Buffer | null> | undefined;
  readonly answer: Promise<Answer> | undefined;
}

/** No PTTL was asked for (a plain read). */
const NO_TTL = -3;

/**
 * Auto-batching of the plain reads of one tick (issue 19): the first read of a window goes out at
 * once, and every `GET` a state's asynchronous operations ask for after it until its
 * {@link StepRunner} flushes goes out with the others as one `MGET` per cluster slot (one `GET` for
 * a lone key), each key once (a read of the first one's key joins it). The reads of many concurrent
 * calls thus cost the server one command instead of one per call, and the client one reply to
 * parse. The local layer's reads, which need each key's remaining life too, go out the same way, as
 * one script per slot that answers `GET` and `PTTL` of each key. A read is sent no earlier than
 * asked: a write this process sent before it is seen, and a write sent after it in the same tick may
 * be too (a later read can only be fresher).
 */
export class ReadBatcher {
  readonly #connection: RedisConnection;
  readonly #schedule: () => void;
  /** Slot → group (one group, slot 0, outside a cluster), or `undefined` when nothing is queued. */
  #groups: Map<number, Group> | undefined;
  /**
   * The read that led this window (went out at once), by key (a string key as itself, bytes by their
   * latin1 text): later reads of its key join it.
   */
  readonly #ledByString = new Map<string, Led>();
  readonly #ledByBytes = new Map<string, Led>();

  /** @param schedule called when a read is queued with none before it: a flush must follow */
  constructor(connection: RedisConnection, schedule: () => void) {
    this.#connection = connection;
    this.#schedule = schedule;
  }

  /**
   * `GET` of `key` with the other reads of this tick: the bytes, or `null` on a miss.
   * @param lead whether this read leads a new window (see StepRunner): it goes out at once
   */
  read(key: RedisArgument, label: string, lead = false): Promise<Buffer | null> {
    const led = this.#ledRead(key);
    if (led !== undefined) return (led.bytes ??= led.answer!.then(([bytes]) => bytes));
    if (lead) {
      // The hot path of a lone read: the connection's own promise, nothing chained to it.
      const bytes = this.#connection.get(key, label);
      this.#lead(key, { bytes, answer: undefined });
      return bytes;
    }
    return this.#queue(key, label, false).then(([bytes]) => bytes);
  }

  /** `GET` and `PTTL` of `key` with the other reads of this tick (see RedisConnection.getWithTtl). */
  readWithTtl(key: RedisArgument, label: string, lead = false): Promise<Answer> {
    const answer = this.#ledRead(key)?.answer;
    if (answer !== undefined) return answer;
    if (lead) {
      const led: Led = { bytes: undefined, answer: this.#connection.getWithTtl(key, label) };
      this.#lead(key, led);
      return led.answer!;
    }
    return this.#queue(key, label, true);
  }

  #ledRead(key: RedisArgument): Led | undefined {
    return typeof key === "string" ? this.#ledByString.get(key) : this.#ledByBytes.get(Buffer.from(key).toString("latin1"));
  }

  #lead(key: RedisArgument, led: Led): void {
    if (typeof key === "string") this.#ledByString.set(key, led);
    else this.#ledByBytes.set(Buffer.from(key).toString("latin1"), led);
  }

  #queue(key: RedisArgument, label: string, withTtl: boolean): Promise<Answer> {
    const id = idOf(key);
    let groups = this.#groups;
    if (groups === undefined) {
      this.#groups = groups = new Map();
      this.#schedule();
    }
    const slot = this.#connection.isCluster ? keySlot(key) : 0;
    let group = groups.get(slot);
    if (group === undefined) groups.set(slot, (group = newGroup()));
    let at = group.index.get(id);
    if (at === undefined) {
      at = group.keys.length;
      group.index.set(id, at);
      group.keys.push(key);
      group.labels.push(label);
      group.waiters.push([]);
    }
    if (withTtl) group.withTtl = true;
    const waiters = group.waiters[at]!;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** One key, alone: `GET` (and `PTTL`, pipelined, when `withTtl`). */
  #readOne(key: RedisArgument, label: string, withTtl: boolean): Promise<Answer> {
    const connection = this.#connection;
    return withTtl ? connection.getWithTtl(key, label) : connection.get(key, label).then((bytes): Answer => [bytes, NO_TTL]);
  }

  /**
   * Stops later reads from joining the read that led this window: a write was asked since, and a
   * read asked after a write of this process must see it (queued reads go out after the writes).
   */
  forgetLed(): void {
    this.#ledByString.clear();
    this.#ledByBytes.clear();
  }

  /** Sends the reads queued so far, and ends the window. */
  flush(): void {
    this.forgetLed();
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
    const answer = (i: number, reply: Answer): void => {
      for (const waiter of waiters[i]!) waiter.resolve(reply);
    };
    const connection = this.#connection;
    if (end - start === 1) {
      this.#readOne(keys[start]!, labels[start]!, group.withTtl).then((reply) => answer(start, reply), fail);
      return;
    }
    const chunk = keys.slice(start, end);
    const label = `${labels[start]!} (and ${end - start - 1} more)`;
    if (group.withTtl) {
      (runScriptOn(connection, GET_WITH_TTL_MANY, chunk, [], label) as Promise<Array<Buffer | number | null>>).then((replies) => {
        for (let i = start; i < end; i++) {
          const bytes = replies[2 * (i - start)];
          answer(i, [Buffer.isBuffer(bytes) ? bytes : null, Number(replies[2 * (i - start) + 1])]);
        }
      }, fail);
      return;
    }
    (connection.send("MGET", label, chunk[0]!, true, ["MGET", ...chunk]) as Promise<Array<Buffer | null>>).then((replies) => {
      for (let i = start; i < end; i++) answer(i, [replies[i - start] ?? null, NO_TTL]);
    }, fail);
  }
}
