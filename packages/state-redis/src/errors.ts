import { StateError, StateTimeoutError } from "@mimic/core";

/**
 * Redis cannot be reached: connection refused or lost, reconnecting, no cluster node available.
 * Mimic treats the call as a miss and runs the function (fail-open). Code `MIMIC_REDIS_UNAVAILABLE`.
 */
export class RedisUnavailableError extends StateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "MIMIC_REDIS_UNAVAILABLE" });
  }
}

/**
 * Redis answered a command with an error reply (`OOM`, `READONLY`, `WRONGTYPE`, `NOPERM`…).
 * Code `MIMIC_REDIS_COMMAND`.
 */
export class RedisCommandError extends StateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "MIMIC_REDIS_COMMAND" });
  }
}

/** A value the serializer cannot encode (a function with `v8`, a `BigInt` with JSON…). Code `MIMIC_UNSERIALIZABLE_VALUE`. */
export class UnserializableValueError extends StateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "MIMIC_UNSERIALIZABLE_VALUE" });
  }
}

/**
 * The worker thread behind the synchronous operations could not start or died (for instance its
 * built file `dist/redis-worker.js` is missing). Code `MIMIC_REDIS_WORKER`.
 */
export class SyncWorkerError extends StateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "MIMIC_REDIS_WORKER" });
  }
}

/** node-redis's error classes, recognised by name so a client from another copy of `redis` works too. */
const connectionErrorNames = new Set([
  "ClientOfflineError",
  "ClientClosedError",
  "DisconnectsClientError",
  "SocketClosedUnexpectedlyError",
  "ConnectionTimeoutError",
  "SocketTimeoutError",
  "RootNodesUnavailableError",
  "ReconnectStrategyError",
]);

function errorName(error: unknown): string {
  if (!(error instanceof Error)) return "";
  return error.constructor?.name ?? error.name;
}

function describeCause(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeCause(error.errors[0]);
  if (error instanceof Error) return error.message || errorName(error);
  return String(error);
}

/**
 * Turns whatever node-redis (or the socket) threw into a {@link StateError} subclass whose message
 * names the operation, e.g. `GET "mimic:f|…"`. `lastConnectionError` explains an offline client.
 */
export function toStateError(
  error: unknown,
  operation: string,
  context: { timeoutMs: number; lastConnectionError?: unknown },
): StateError {
  const { lastConnectionError } = context;
  if (error instanceof StateError) return error;
  const name = errorName(error);
  if (name === "ErrorReply" || name === "SimpleError" || name === "BlobError") {
    return new RedisCommandError(`Redis rejected ${operation}: ${describeCause(error)}`, { cause: error });
  }
  if (name === "TimeoutError") {
    // A borrowed client may carry its own command timeout; report it like ours.
    return new StateTimeoutError(`Redis ${operation}`, context.timeoutMs, { cause: error });
  }
  if (error instanceof Error && error.message === "The queue is full") {
    // node-redis's cap on commands awaiting a reply: the server has stopped answering.
    return new RedisUnavailableError(`Redis is not answering ${operation}: too many commands await a reply`, { cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (connectionErrorNames.has(name) || typeof code === "string") {
    const why = lastConnectionError !== undefined && lastConnectionError !== error
      ? `${describeCause(error)}; last connection error: ${describeCause(lastConnectionError)}`
      : describeCause(error);
    return new RedisUnavailableError(`Redis is unavailable for ${operation}: ${why}`, { cause: error });
  }
  return new StateError(`Redis ${operation} failed: ${describeCause(error)}`, { cause: error });
}

/** A tag `set` cannot store: more than 65,535 tags, or one over 65,535 bytes. Code `MIMIC_REDIS_INVALID_TAG`. */
export class InvalidTagError extends StateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: "MIMIC_REDIS_INVALID_TAG" });
  }
}
