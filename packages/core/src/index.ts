export { Mime, type MimeDecorator, type MimeFactory } from "./mime.js";
export type { MimeOptions } from "./options.js";
export type { Memoized, MemoizedHandles, MimeStats } from "./memoize.js";
export { Config, type ConfigOptions, type ErrorContext, type ErrorHandler, type StateOperation } from "./config.js";
export { MemoryState, type MemoryStateOptions, type MemoryStatePolicy } from "./state/memory-state.js";
export { MIMIC_CHANNELS, type MimicErrorEvent, type MimicEvent } from "./events.js";
export * from "./errors.js";
export * from "./state/contract.js";
export * from "./ttl.js";
export * from "./serializer.js";
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
