// @ts-check
"use strict";
// Helpers shared by the worker processes and the tests. Plain JavaScript, so that a child starts in a
// fraction of the time a TypeScript loader needs (20 writers are started and killed on a loaded
// machine); CommonJS, so that jest (without ESM support) loads it for the tests as well.

/**
 * @typedef {object} RedisLoadConfig
 * @property {string} url
 * @property {string} prefix
 * @property {number} timeout the RedisState operation timeout, ms
 * @property {number} functionMs how long the memoized function takes
 * @property {number} callsPerSecond this worker's share of the load
 * @property {number} durationMs
 * @property {number} keys
 * @property {number} index the worker's index (seeds its key order)
 */

/** Milliseconds since the epoch with sub-millisecond precision; comparable across processes. */
function epochNow() {
  return performance.timeOrigin + performance.now();
}

/** A small deterministic PRNG (mulberry32), so every worker's choices are reproducible from its seed. */
function random(/** @type {number} */ seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The keys 0..n-1 in an order of the worker's own (Fisher-Yates with its seed). */
function keyOrder(/** @type {number} */ n, /** @type {number} */ seed) {
  const next = random(seed + 1);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [/** @type {number} */ (order[j]), /** @type {number} */ (order[i])];
  }
  return order;
}

/** What the memoized function of the Redis load returns for key k: a pure function of k. */
function expectedValue(/** @type {number} */ k) {
  return { k, text: `value-${k}`, square: k * k, list: [k, -k, String(k)] };
}

/** Whether `value` is exactly {@link expectedValue}(k). */
function isExpectedValue(/** @type {unknown} */ value, /** @type {number} */ k) {
  return JSON.stringify(value) === JSON.stringify(expectedValue(k));
}

/** The body of an entry: a deterministic text of `size` characters derived from key and seq. */
function body(/** @type {string} */ key, /** @type {string} */ seq, /** @type {number} */ size) {
  const unit = `${key}/${seq};`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/**
 * A value whose every byte can be checked by a reader that knows only the key: a torn, mixed or
 * foreign value fails {@link checkValue}.
 */
function makeValue(/** @type {string} */ key, /** @type {string} */ seq, /** @type {number} */ size) {
  return { key, seq, size, body: body(key, seq, size), tail: `end:${key}:${seq}` };
}

/**
 * Checks a value read for `key`: `undefined` (a miss) is fine; anything else must be a complete
 * {@link makeValue} of that key. Returns a description of what is wrong, or `undefined`.
 * @returns {string | undefined}
 */
function checkValue(/** @type {string} */ key, /** @type {unknown} */ value) {
  if (value === undefined) return undefined;
  const v = /** @type {{ key?: unknown, seq?: unknown, size?: unknown, body?: unknown, tail?: unknown }} */ (value);
  if (typeof v !== "object" || v === null) return `not an object: ${String(value).slice(0, 80)}`;
  if (v.key !== key) return `value of key ${String(v.key)} read under ${key}`;
  if (typeof v.seq !== "string" || typeof v.size !== "number" || typeof v.body !== "string") return "missing fields";
  if (v.body.length !== v.size) return `body of ${v.body.length} characters, expected ${v.size}`;
  if (v.body !== body(key, v.seq, v.size)) return "body does not match its key and seq";
  if (v.tail !== `end:${key}:${v.seq}`) return "tail does not match";
  return undefined;
}

/** What the memoized function of the temp-file hammer returns for key k (any process, any time). */
function memoValue(/** @type {string} */ key) {
  return { key, digits: [...key].map((c) => c.charCodeAt(0)), text: body(key, "memo", 300) };
}

module.exports = { epochNow, random, keyOrder, expectedValue, isExpectedValue, body, makeValue, checkValue, memoValue };
