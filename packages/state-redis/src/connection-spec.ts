import { createClient, createCluster, type RedisClientOptions, type RedisClusterOptions } from "redis";
import type { Owned, RedisClientLike, RedisClusterLike } from "./client-types.js";

/**
 * How to open a connection, as plain data that can cross to the worker thread (structured clone):
 * functions and class instances (custom socket factories, credential providers) are dropped.
 */
export type ConnectionSpec =
  | { readonly kind: "client"; readonly options: Record<string, unknown> }
  | { readonly kind: "cluster"; readonly options: Record<string, unknown> };

/** How long a TCP connect may take before node-redis gives up on that attempt and retries. */
const CONNECT_TIMEOUT_MS = 2000;
/**
 * Commands waiting for a reply are kept by node-redis until the reply comes (replies are matched by
 * order), even after our timeout gave up on them: against a hung server under load that queue would
 * grow without bound. Past this many, new commands fail at once.
 */
const MAX_PENDING_COMMANDS = 10_000;
/** The reconnect backoff is capped low so hits resume within about a second of Redis coming back. */
export const MAX_RECONNECT_DELAY_MS = 1000;

/** Capped exponential backoff with a little jitter, so many processes do not reconnect in lockstep. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 50);
}

const clientKeys = ["url", "socket", "username", "password", "name", "database", "RESP", "readonly"] as const;
const clusterKeys = [
  "rootNodes",
  "defaults",
  "useReplicas",
  "minimizeConnections",
  "maxCommandRedirections",
  "nodeAddressMap",
  "RESP",
] as const;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A deep copy of `value` keeping only what structured clone carries faithfully; `undefined` if nothing. */
function cloneable(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value;
    case "object": {
      if (value === null) return null;
      if (value instanceof Uint8Array) return new Uint8Array(value);
      if (Array.isArray(value)) return value.map(cloneable).filter((item) => item !== undefined);
      if (!isPlainObject(value)) return undefined;
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const cloned = cloneable(item);
        if (cloned !== undefined) copy[key] = cloned;
      }
      return copy;
    }
    default:
      return undefined;
  }
}

function pick(source: object | undefined, keys: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  if (source === undefined) return picked;
  for (const key of keys) {
    const value = cloneable((source as Record<string, unknown>)[key]);
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}

/** The spec of a client created from a URL. */
export function specFromUrl(url: string): ConnectionSpec {
  return { kind: "client", options: { url } };
}

/** The spec of a connection like a user's client (for the worker's own connection). */
export function specFromClient(client: RedisClientLike): ConnectionSpec {
  return { kind: "client", options: pick(client.options, clientKeys) };
}

/** The spec of a connection like a user's cluster (for the worker's own connection). */
export function specFromCluster(cluster: RedisClusterLike): ConnectionSpec {
  return { kind: "cluster", options: pick(cluster._options, clusterKeys) };
}

/** When to retry after a lost or refused connection: milliseconds, or `false` to stop reconnecting. */
export type ReconnectStrategy = (retries: number) => number | false;

function socketOptions(given: unknown, reconnect: ReconnectStrategy): Record<string, unknown> {
  return {
    ...(typeof given === "object" && given !== null ? (given as Record<string, unknown>) : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: reconnect,
  };
}

/** A node-redis client the state owns: fails fast while offline, reconnects in the background. */
export type OwnedClient = RedisClientLike & Owned & { unref(): void };
/** A node-redis cluster the state owns. */
export type OwnedCluster = RedisClusterLike & Owned;

/**
 * Creates (without connecting) a client for a `kind: "client"` spec.
 * @param reconnect node-redis's reconnect strategy; by default it never stops (capped backoff)
 */
export function createOwnedClient(options: Record<string, unknown>, reconnect: ReconnectStrategy = reconnectDelay): OwnedClient {
  return createClient({
    ...(options as RedisClientOptions),
    // While disconnected, commands must fail at once rather than queue until Redis returns: a memoized
    // call then runs its function instead of waiting.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING_COMMANDS,
    socket: socketOptions(options["socket"], reconnect) as NonNullable<RedisClientOptions["socket"]>,
  });
}

/** Creates (without connecting) a cluster for a `kind: "cluster"` spec. */
export function createOwnedCluster(options: Record<string, unknown>): OwnedCluster {
  const defaults = (options["defaults"] ?? {}) as Record<string, unknown>;
  return createCluster({
    ...(options as unknown as RedisClusterOptions),
    defaults: {
      ...(defaults as RedisClusterOptions["defaults"]),
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_PENDING_COMMANDS,
      socket: socketOptions(defaults["socket"], reconnectDelay) as NonNullable<NonNullable<RedisClusterOptions["defaults"]>["socket"]>,
    },
  });
}
