import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from "node:zlib";
import { InvalidOptionError } from "./errors.js";
import { describeValue, rejectUnknownOptions } from "./option-kit.js";
import type { Serializer } from "./serializer.js";

/** Options of {@link compressed}. */
export interface CompressionOptions {
  /**
   * Entries whose serialized bytes are at least this long are compressed; smaller ones are stored as
   * they are (compressing a few hundred bytes costs more time than it saves space).
   * @default 1024
   */
  threshold?: number | undefined;
  /**
   * `"brotli"` compresses smaller, `"gzip"` faster; both are Node's own `zlib`.
   * @default "brotli"
   */
  algorithm?: "brotli" | "gzip" | undefined;
}

/** The first byte of every entry: how the rest is stored. */
const RAW = 0;
const COMPRESSED = 1;

/**
 * Wraps a serializer so that entries over a size threshold are compressed with Node's own zlib
 * (brotli or gzip), for Redis or temp-file states that keep large values. Off unless you wrap: pass
 * `serializer: compressed(v8Serializer)` to the state. Its `name` records the inner serializer and
 * the algorithm, so entries written without compression (or with another algorithm) are read as
 * misses, never decoded wrongly.
 * @example
 * new RedisState({ url, serializer: compressed(v8Serializer, { threshold: 4096, algorithm: "gzip" }) })
 * @throws InvalidOptionError for an unknown option, a threshold that is not an integer >= 0, or an unknown algorithm
 */
export function compressed(inner: Serializer, options: CompressionOptions = {}): Serializer {
  rejectUnknownOptions("compressed(serializer, options)", options, ["threshold", "algorithm"]);
  const threshold = options.threshold ?? 1024;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new InvalidOptionError(`compressed(serializer, options): threshold must be an integer >= 0 (bytes), got ${describeValue(options.threshold)}`);
  }
  const algorithm = options.algorithm ?? "brotli";
  if (algorithm !== "brotli" && algorithm !== "gzip") {
    throw new InvalidOptionError(`compressed(serializer, options): algorithm must be "brotli" or "gzip", got ${describeValue(options.algorithm)}`);
  }
  const compress =
    algorithm === "brotli"
      ? (bytes: Uint8Array) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } })
      : (bytes: Uint8Array) => gzipSync(bytes);
  const decompress = algorithm === "brotli" ? brotliDecompressSync : gunzipSync;
  return {
    name: `${inner.name}+${algorithm}`,
    serialize(value) {
      const bytes = inner.serialize(value);
      const packed = bytes.length >= threshold ? compress(bytes) : undefined;
      // Stored compressed only when that is smaller.
      const body = packed !== undefined && packed.length < bytes.length ? packed : bytes;
      const out = new Uint8Array(body.length + 1);
      out[0] = body === bytes ? RAW : COMPRESSED;
      out.set(body, 1);
      return out;
    },
    deserialize(bytes) {
      const marker = bytes[0];
      const body = bytes.subarray(1);
      if (marker === RAW) return inner.deserialize(body);
      if (marker === COMPRESSED) return inner.deserialize(decompress(body));
      throw new TypeError(`compressed(${inner.name}): bytes start with ${String(marker)}, not a compression marker`);
    },
  };
}
