import type { RedisArgument } from "redis";

// Redis Cluster's key → slot mapping (CRC16/XMODEM of the key, or of its hash tag, modulo 16,384), so
// that multi-key reads can be grouped per slot: a multi-key command across slots is refused
// (CROSSSLOT).

/** Redis Cluster's number of hash slots. */
export const SLOT_COUNT = 16_384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The cluster slot of a key, as Redis computes it: when the key holds `{` followed later by `}` with
 * at least one byte between them, only the bytes between the first `{` and the next `}` (the hash
 * tag) are hashed.
 */
export function keySlot(key: RedisArgument): number {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(OPEN_BRACE);
  if (open >= 0) {
    const close = bytes.indexOf(CLOSE_BRACE, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  return crc16(bytes, start, end) % SLOT_COUNT;
}
