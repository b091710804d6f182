import { StateContractError } from "../errors.js";
import { type BatchEntry, type BatchReadingState, type BatchWritingState, type CacheEntry, type IState, stateName } from "../state/contract.js";

/**
 * Gathers the reads and writes a batch loader's items make in one tick into one `getMany` /
 * `setMany` per state, for states that offer them. Each caller still gets its own answer.
 */
interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

interface ReadQueue {
  readonly keys: string[];
  readonly waiters: Waiter<CacheEntry | undefined>[];
}

interface WriteQueue {
  readonly entries: BatchEntry[];
  readonly waiters: Waiter<void>[];
}

const reads = new WeakMap<IState, ReadQueue>();
const writes = new WeakMap<IState, WriteQueue>();

/** Reads `key` with the state's next `getMany` (the reads queued in this microtask go together). */
export function getThroughMany(state: BatchReadingState, key: string): Promise<CacheEntry | undefined> {
  let queue = reads.get(state);
  if (queue === undefined) {
    const created: ReadQueue = { keys: [], waiters: [] };
    reads.set(state, (queue = created));
    queueMicrotask(() => {
      reads.delete(state);
      flushReads(state, created);
    });
  }
  queue.keys.push(key);
  return new Promise((resolve, reject) => queue.waiters.push({ resolve, reject }));
}

function flushReads(state: BatchReadingState, queue: ReadQueue): void {
  const fail = (reason: unknown): void => queue.waiters.forEach((waiter) => waiter.reject(reason));
  let answer: Promise<(CacheEntry | undefined)[]>;
  try {
    answer = Promise.resolve(state.getMany(queue.keys));
  } catch (error) {
    fail(error);
    return;
  }
  answer.then((entries) => {
    if (!Array.isArray(entries) || entries.length !== queue.keys.length) {
      fail(new StateContractError(`${stateName(state)}.getMany was given ${queue.keys.length} keys and did not return one result per key`));
      return;
    }
    queue.waiters.forEach((waiter, i) => waiter.resolve(entries[i]));
  }, fail);
}

/**
 * Writes `entry` with the state's next `setMany`: the writes queued until the end of this turn of
 * the event loop go together (a batch's items settle over several microtasks).
 */
export function setThroughMany(state: BatchWritingState, entry: BatchEntry): Promise<void> {
  let queue = writes.get(state);
  if (queue === undefined) {
    const created: WriteQueue = { entries: [], waiters: [] };
    writes.set(state, (queue = created));
    setImmediate(() => {
      writes.delete(state);
      const fail = (reason: unknown): void => created.waiters.forEach((waiter) => waiter.reject(reason));
      try {
        Promise.resolve(state.setMany(created.entries)).then(() => created.waiters.forEach((waiter) => waiter.resolve()), fail);
      } catch (error) {
        fail(error);
      }
    });
  }
  queue.entries.push(entry);
  return new Promise((resolve, reject) => queue.waiters.push({ resolve, reject }));
}
