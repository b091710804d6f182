export { Mime, type MimeBatchDecorator, type MimeBatchOptions, type MimeDecorator, type MimeFactory } from "./mime.js";
export type { BatchHandles, MemoizedBatch } from "./engine/batch.js";
export type { MimeOptions } from "./options.js";
export type { Memoized, MemoizedHandles, MimeStats, PeekedEntry } from "./engine/handles.js";
export { Config, type ConfigOptions, type ErrorContext, type ErrorHandler, type StateOperation } from "./config.js";
export { MemoryState, type MemoryStateOptions } from "./state/memory-state.js";
export { MIMIC_CHANNELS, type MimicErrorEvent, type MimicEvent } from "./events.js";
export * from "./errors.js";
export * from "./state/contract.js";
export * from "./ttl.js";
export * from "./serializer.js";
export { compressed, type CompressionOptions } from "./compression.js";
export {
  KEY_FORMAT_VERSION,
  NAMESPACE_END,
  encodeArguments,
  encodeCustomKey,
  isLoneKeyable,
  digestKey,
  shortenKey,
  type CallKind,
} from "./keys/encode.js";
