import { randomUUID } from "node:crypto";
import {
  StateError,
  encodeArguments,
  expiresAt,
  isExpired,
  type BatchEntry,
  type CacheEntry,
  type IState,
  type LockingState,
  type PrefixDeletingState,
  type Serializer,
  type SetOptions,
  type TaggingState,
} from "@mimic/core";
import { preciseNow, type LocalPartition, type PartitionedState } from "@mimic/core/state-kit";

/**
 * The smallest correct state: a Map with expiry times, sync and async. With a serializer it stores
 * bytes, as a Redis or file state does, so values come back as copies (a Buffer as a Uint8Array).
 */
export class ReferenceState implements IState {
  protected readonly entries = new Map<string, { stored: unknown; expires: number }>();

  constructor(private readonly serializer?: Serializer) {}

  getSync(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (isExpired(entry.expires)) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: this.serializer ? this.serializer.deserialize(entry.stored as Uint8Array) : entry.stored };
  }

  setSync(key: string, value: unknown, ttl: number | null): void {
    const stored = this.serializer ? this.serializer.serialize(value) : value;
    this.entries.set(key, { stored, expires: expiresAt(ttl) });
  }

  deleteSync(key: string): void {
    this.entries.delete(key);
  }

  clearSync(): void {
    this.entries.clear();
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    return this.getSync(key);
  }

  async set(key: string, value: unknown, ttl: number | null): Promise<void> {
    this.setSync(key, value, ttl);
  }

  async delete(key: string): Promise<void> {
    this.deleteSync(key);
  }

  async clear(): Promise<void> {
    this.clearSync();
  }
}

/**
 * The reference state with every optional capability, written as plainly as possible: prefix
 * deletion by scanning keys, tags as a key → tags map (an entry's tags are replaced with it),
 * partitions that are views on the string keys under core's documented key shapes, and leases kept
 * apart from the entries (a key → token and expiry map).
 */
export class CapableReferenceState extends ReferenceState implements PrefixDeletingState, TaggingState, PartitionedState, LockingState {
  readonly local = true;
  protected readonly tagsOf = new Map<string, readonly string[]>();
  protected readonly leases = new Map<string, { token: string; expires: number }>();

  /** When each key, prefix and tag was last invalidated (ms), and the whole state (clear). */
  protected readonly invalidatedAt = { keys: new Map<string, number>(), prefixes: new Map<string, number>(), tags: new Map<string, number>(), all: 0 };
  readonly fencesWrites = true;

  /** Whether an execution that began at `startedAt` began before an invalidation covering `key`. */
  protected fencedOut(key: string, tags: readonly string[] | undefined, startedAt: number): boolean {
    const { keys, prefixes, tags: tagStamps, all } = this.invalidatedAt;
    if (all >= startedAt || (keys.get(key) ?? -Infinity) >= startedAt) return true;
    for (const [prefix, at] of prefixes) if (key.startsWith(prefix) && at >= startedAt) return true;
    return (tags ?? []).some((tag) => (tagStamps.get(tag) ?? -Infinity) >= startedAt);
  }

  override setSync(key: string, value: unknown, ttl: number | null, options?: SetOptions): void {
    if (options?.startedAt !== undefined && this.fencedOut(key, options.tags, options.startedAt)) return;
    super.setSync(key, value, ttl);
    if (options?.tags !== undefined && options.tags.length > 0) this.tagsOf.set(key, [...options.tags]);
    else this.tagsOf.delete(key);
  }

  override async set(key: string, value: unknown, ttl: number | null, options?: SetOptions): Promise<void> {
    this.setSync(key, value, ttl, options);
  }

  override deleteSync(key: string): void {
    this.invalidatedAt.keys.set(key, preciseNow());
    super.deleteSync(key);
    this.tagsOf.delete(key);
  }

  override clearSync(): void {
    this.invalidatedAt.all = preciseNow();
    super.clearSync();
    this.tagsOf.clear();
  }

  async getMany(keys: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    return keys.map((key) => this.getSync(key));
  }

  async setMany(entries: readonly BatchEntry[]): Promise<void> {
    for (const { key, value, ttl, options } of entries) this.setSync(key, value, ttl, options);
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    for (const tag of tags) this.invalidatedAt.tags.set(tag, preciseNow());
    for (const [key, own] of [...this.tagsOf]) if (own.some((tag) => tags.includes(tag))) this.deleteSync(key);
  }

  deletePrefixSync(prefix: string): void {
    this.invalidatedAt.prefixes.set(prefix, preciseNow());
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.deleteSync(key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    this.deletePrefixSync(prefix);
  }

  partition(namespace: string): LocalPartition {
    return {
      namespace,
      getLone: (arg) => this.getSync(this.loneKey(namespace, arg)),
      setLone: (arg, value, ttl, options) => this.setSync(this.loneKey(namespace, arg), value, ttl, options),
      getPair: (first, second) => this.getSync(namespace + encodeArguments([first, second])),
      setPair: (first, second, value, ttl, options) => this.setSync(namespace + encodeArguments([first, second]), value, ttl, options),
      get: (argumentsKey) => this.getSync(namespace + argumentsKey),
      set: (argumentsKey, value, ttl, options) => this.setSync(namespace + argumentsKey, value, ttl, options),
      dispose: () => this.deletePrefixSync(namespace),
    };
  }

  protected loneKey(namespace: string, arg: unknown): string {
    return namespace + encodeArguments([arg]);
  }

  async lock(key: string, lease: number): Promise<string | undefined> {
    const held = this.leases.get(key);
    if (held !== undefined && !isExpired(held.expires)) return undefined;
    const token = randomUUID();
    this.leases.set(key, { token, expires: expiresAt(lease) });
    return token;
  }

  async unlock(key: string, token: string): Promise<void> {
    if (this.leases.get(key)?.token === token) this.leases.delete(key);
  }
}

/** The async half of a state only, as a state without sync support would be. */
export class AsyncOnlyState implements IState {
  constructor(private readonly inner: IState) {}
  get(key: string): Promise<CacheEntry | undefined> {
    return this.inner.get(key);
  }
  set(key: string, value: unknown, ttl: number | null): Promise<void> {
    return this.inner.set(key, value, ttl);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  clear(): Promise<void> {
    return this.inner.clear();
  }
}

/** JSON, plus the two top-level values every state must keep and JSON cannot: undefined and NaN. */
export const jsonWithSpecials: Serializer = {
  name: "json-with-specials",
  serialize(value) {
    if (value === undefined) return Buffer.from("u");
    if (typeof value === "number" && Number.isNaN(value)) return Buffer.from("n");
    return Buffer.from(`j${JSON.stringify(value)}`, "utf8");
  },
  deserialize(bytes) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    if (text === "u") return undefined;
    if (text === "n") return NaN;
    if (!text.startsWith("j")) throw new Error(`not written by json-with-specials: ${text.slice(0, 20)}`);
    return JSON.parse(text.slice(1)) as unknown;
  },
};

/** A state whose backend is down: every operation fails with `error()`, as a real adapter would. */
export class FailingState implements IState {
  closed = false;
  constructor(private readonly error: () => Error = () => new StateError("backend is down (connection refused)")) {}
  async get(): Promise<CacheEntry | undefined> {
    throw this.error();
  }
  async set(): Promise<void> {
    throw this.error();
  }
  async delete(): Promise<void> {
    throw this.error();
  }
  async clear(): Promise<void> {
    throw this.error();
  }
  getSync(): CacheEntry | undefined {
    throw this.error();
  }
  setSync(): void {
    throw this.error();
  }
  deleteSync(): void {
    throw this.error();
  }
  clearSync(): void {
    throw this.error();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A failing backend with every capability but partitions: each operation fails too. */
export class CapableFailingState extends FailingState implements PrefixDeletingState, TaggingState, LockingState {
  async deletePrefix(): Promise<void> {
    return this.get().then(() => undefined);
  }
  deletePrefixSync(): void {
    this.getSync();
  }
  async invalidateTags(): Promise<void> {
    return this.get().then(() => undefined);
  }
  async lock(): Promise<string | undefined> {
    return this.get().then(() => "never");
  }
  async unlock(): Promise<void> {
    return this.get().then(() => undefined);
  }
}
