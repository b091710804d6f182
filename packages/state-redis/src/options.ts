import { ConfigError, InvalidOptionError, v8Serializer, type Serializer, type StateError } from "@mimic/core";
import { describeValue, MIN_SECRET_BYTES, rejectUnknownOptions } from "@mimic/core/state-kit";
import type { RedisClientLike, RedisClusterLike } from "./client-types.js";
import { isWellFormedText } from "./keys.js";
import { resolveLocalOptions, type LocalLayerOptions, type ResolvedLocalOptions } from "./local/local-options.js";

/** Options of {@link RedisState}. Give exactly one way to reach Redis: `url`, `client`, or `REDIS_URL`. */
export interface RedisStateOptions {
  /**
   * A `redis://` or `rediss://` URL (credentials and database number included, as node-redis reads them).
   * The state creates, connects and closes its own client.
   * @default process.env.REDIS_URL when neither `url` nor `client` is given (an empty string counts as unset)
   */
  url?: string | undefined;
  /**
   * A node-redis client (`createClient()`) or cluster (`createCluster()`) that you own: the state uses it
   * but never closes it. If it is not connected yet, the state connects it on first use. Synchronous
   * operations open one more connection, in a worker thread, from this client's options.
   */
  client?: RedisClientLike | RedisClusterLike | undefined;
  /**
   * Prepended to every key; `clear()` removes the keys that start with it (except the
   * state's invalidation fences, kept 6 hours). Must not be empty.
   * States with nested prefixes (`"app:"` and `"app:users:"`) share keys for `clear()`: pick disjoint ones.
   * @default "mimic:"
   */
  prefix?: string | undefined;
  /**
   * Turns values into bytes and back. Entries written by another serializer read as a miss.
   * @default v8Serializer (structured clone: `undefined`, `Date`, `Map`, `Set`, `BigInt`, typed arrays)
   */
  serializer?: Serializer | undefined;
  /**
   * Milliseconds each Redis round trip may take, the first connection included, before the operation
   * rejects with `StateTimeoutError` (and Mimic runs the function instead). At most 5000; keep it low
   * (a synchronous call blocks its thread for up to this long while Redis is hung).
   * @default 200
   */
  timeout?: number | undefined;
  /**
   * Called with errors that happen in the background, outside any call: the connection dropping and
   * reconnect attempts failing (once per outage, not once per retry). Errors of an operation are thrown
   * or rejected by that operation instead; `Mime` reports those to its own `onError`.
   * @default undefined (background errors are ignored; the state keeps reconnecting)
   */
  onError?: ((error: StateError) => void) | undefined;
  /**
   * Signs every entry with HMAC-SHA256 under this secret, and reads only entries whose signature
   * matches: an entry altered in Redis, or written by anyone without the secret, is a
   * `CorruptEntryError` (a miss, reported) and is never deserialized. Use it whenever parties you do
   * not fully trust can write to the Redis (see the README's security section). Every process sharing
   * the prefix needs the same secret; a state without one reads signed entries as corrupt, and the
   * other way round. At least 16 bytes (a string is taken as UTF-8).
   * @default undefined (entries are not signed)
   */
  secret?: string | Uint8Array | undefined;
  /**
   * Keeps a copy of recently read entries in this process, already deserialized, so that a repeat hit
   * costs no round trip. Redis tells every process holding a key when anyone changes, deletes or
   * expires it (RESP3 `CLIENT TRACKING` in broadcast mode on the state's prefix; Redis 6 or later),
   * and the copy is dropped; if that channel is lost, the whole layer is dropped until it is back.
   * Trade-offs (README): memory in every process, and a hit returns the same object each time, so a
   * caller that mutates it changes what later hits see. `true` uses the defaults of {@link LocalLayerOptions}.
   * @default false
   */
  local?: boolean | LocalLayerOptions | undefined;
}

/** The default {@link RedisStateOptions.prefix}. */
export const DEFAULT_PREFIX = "mimic:";
/** The default {@link RedisStateOptions.timeout}, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 200;
/** The largest {@link RedisStateOptions.timeout} accepted, in milliseconds. */
export const MAX_TIMEOUT_MS = 5000;

/** Where the connection comes from. */
export type ConnectionSource =
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "client"; readonly client: RedisClientLike }
  | { readonly kind: "cluster"; readonly cluster: RedisClusterLike };

/** {@link RedisStateOptions} checked, with defaults applied. */
export interface ResolvedOptions {
  readonly source: ConnectionSource;
  readonly prefix: string;
  readonly serializer: Serializer;
  readonly timeout: number;
  readonly onError: ((error: StateError) => void) | undefined;
  readonly secret: Uint8Array | undefined;
  /** `undefined` when the local layer is off. */
  readonly local: ResolvedLocalOptions | undefined;
}

/** The shortest {@link RedisStateOptions.secret} accepted, in bytes (core's one constant). */
export { MIN_SECRET_BYTES };

const knownOptions = ["url", "client", "prefix", "serializer", "timeout", "onError", "secret", "local"] as const;

/** Whether `value` looks like a node-redis cluster (it routes by key and knows its masters). */
export function isClusterLike(value: RedisClientLike | RedisClusterLike): value is RedisClusterLike {
  return Array.isArray((value as Partial<RedisClusterLike>).masters) &&
    typeof (value as Partial<RedisClusterLike>).nodeClient === "function";
}

function checkUrl(url: unknown, from: string): string {
  if (typeof url !== "string") {
    throw new InvalidOptionError(`RedisState: ${from} must be a string like "redis://127.0.0.1:6379", got ${describeValue(url)}`);
  }
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new InvalidOptionError(`RedisState: ${from} is not a valid URL: ${describeValue(url)}`);
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new InvalidOptionError(`RedisState: ${from} must use redis:// or rediss://, got ${describeValue(url)}`);
  }
  return url;
}

function checkClient(client: unknown): ConnectionSource {
  const candidate = client as Partial<RedisClientLike & RedisClusterLike> | null;
  if (typeof candidate !== "object" || candidate === null || typeof candidate.sendCommand !== "function" ||
    typeof candidate.connect !== "function") {
    throw new InvalidOptionError(
      `RedisState: client must be a node-redis client or cluster (from createClient() or createCluster()), got ${describeValue(client)}`,
    );
  }
  const typed = candidate as RedisClientLike | RedisClusterLike;
  return isClusterLike(typed) ? { kind: "cluster", cluster: typed } : { kind: "client", client: typed };
}

function resolveSource(options: RedisStateOptions): ConnectionSource {
  const hasUrl = options.url !== undefined;
  const hasClient = options.client !== undefined;
  if (hasUrl && hasClient) {
    throw new ConfigError(`RedisState: pass either url or client, not both (url ${describeValue(options.url)} and a client were given)`);
  }
  // An explicit option wins over the environment: a client passed in code must not be replaced by a
  // REDIS_URL that happens to be set for something else.
  if (hasUrl) return { kind: "url", url: checkUrl(options.url, "url") };
  if (hasClient) return checkClient(options.client);
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== "") return { kind: "url", url: checkUrl(fromEnv, "the REDIS_URL environment variable") };
  throw new ConfigError(
    "RedisState needs a Redis server. Pass { url: \"redis://host:6379\" } in its options (stateOptions), " +
      "or set the REDIS_URL environment variable, or pass { client } with a node-redis client or cluster " +
      "(createClient() / createCluster()).",
  );
}

function checkSerializer(serializer: unknown): Serializer {
  const candidate = serializer as Partial<Serializer> | null;
  if (typeof candidate !== "object" || candidate === null || typeof candidate.serialize !== "function" ||
    typeof candidate.deserialize !== "function" || typeof candidate.name !== "string") {
    throw new InvalidOptionError(
      `RedisState: serializer must be { name, serialize, deserialize } (like v8Serializer), got ${describeValue(serializer)}`,
    );
  }
  const nameBytes = Buffer.byteLength(candidate.name, "utf8");
  if (nameBytes === 0 || nameBytes > 255) {
    throw new InvalidOptionError(`RedisState: serializer.name must have 1 to 255 bytes, got ${describeValue(candidate.name)}`);
  }
  return candidate as Serializer;
}

function checkTimeout(timeout: unknown): number {
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT_MS) {
    throw new InvalidOptionError(
      `RedisState: timeout must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}, got ${describeValue(timeout)}`,
    );
  }
  return timeout;
}

function checkSecret(secret: unknown): Uint8Array {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret instanceof Uint8Array ? Buffer.from(secret) : undefined;
  if (bytes === undefined) {
    throw new InvalidOptionError(`RedisState: secret must be a string or a Uint8Array, got ${secret === null ? "null" : typeof secret}`);
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    // The secret itself is never echoed into a message.
    throw new InvalidOptionError(`RedisState: secret must have at least ${MIN_SECRET_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Checks every option (unknown names included) and applies the defaults. */
export function resolveOptions(options: RedisStateOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new InvalidOptionError(`RedisState: options must be an object, got ${describeValue(options)}`);
  }
  const given = options ?? {};
  rejectUnknownOptions("RedisState", given, knownOptions);
  const prefix = given.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== "string" || prefix === "") {
    throw new InvalidOptionError(
      `RedisState: prefix must be a non-empty string (an empty one would let clear() remove every key), got ${describeValue(prefix)}`,
    );
  }
  if (!isWellFormedText(prefix)) {
    throw new InvalidOptionError(`RedisState: prefix must be well-formed text (it has a lone surrogate), got ${describeValue(prefix)}`);
  }
  if (given.onError !== undefined && typeof given.onError !== "function") {
    throw new InvalidOptionError(`RedisState: onError must be a function, got ${describeValue(given.onError)}`);
  }
  return {
    source: resolveSource(given),
    prefix,
    serializer: given.serializer === undefined ? v8Serializer : checkSerializer(given.serializer),
    timeout: given.timeout === undefined ? DEFAULT_TIMEOUT_MS : checkTimeout(given.timeout),
    onError: given.onError,
    secret: given.secret === undefined ? undefined : checkSecret(given.secret),
    local: resolveLocalOptions(given.local),
  };
}
