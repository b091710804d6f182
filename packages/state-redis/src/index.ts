export { RedisState } from "./redis-state.js";
export {
  DEFAULT_PREFIX,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  MIN_SECRET_BYTES,
  type RedisStateOptions,
} from "./options.js";
export { DEFAULT_LOCAL_MAX_ENTRIES, type LocalLayerOptions } from "./local/local-options.js";
export type { LocalLayerStats } from "./local/local-layer.js";
export type {
  RedisClientLike,
  RedisClusterLike,
  RedisClusterMasterLike,
  RedisCommandOptionsLike,
} from "./client-types.js";
export {
  InvalidTagError,
  RedisCommandError,
  RedisUnavailableError,
  SyncWorkerError,
  UnserializableValueError,
} from "./errors.js";
export { ENTRY_FORMAT_VERSION } from "./entry-codec.js";
export { MAX_KEY_LENGTH } from "./keys.js";
export { MAX_RECONNECT_DELAY_MS } from "./connection-spec.js";
export { THREAD_MARGIN_MS, WORKER_BOOT_ALLOWANCE_MS } from "./sync/host.js";
