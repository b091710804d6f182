export * from "./errors.js";
export * from "./state.js";
export * from "./ttl.js";
export * from "./serializer.js";
export {
  KEY_FORMAT_VERSION,
  NAMESPACE_END,
  encodeArguments,
  encodeCustomKey,
  digestKey,
  shortenKey,
  type CallKind,
} from "./key.js";
