/**
 * Seeded request traces for the hit-ratio scenario: each is a list of integer keys and the cache
 * size it is played against. Generated here (no trace files), so every run replays the same requests.
 */

/** One trace: the requests, the cache size, and (for scans) where each scan ends. */
export interface Trace {
  readonly id: string;
  readonly label: string;
  readonly cacheSize: number;
  readonly keys: Int32Array;
  /** Index of the first request after each scan (scan traces only). */
  readonly scanEnds?: readonly number[];
}

/** xorshift-based seeded PRNG returning floats in [0, 1). */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with probability ∝ 1/(rank+1)^alpha (inverse CDF by binary search). */
function zipfSampler(n: number, alpha: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / Math.pow(i + 1, alpha);
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Zipf(alpha) requests over `keys` keys. */
export function zipfTrace(id: string, label: string, alpha: number, keys: number, cacheSize: number, length: number, seed: number): Trace {
  const next = zipfSampler(keys, alpha, prng(seed));
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = next();
  return { id, label, cacheSize, keys: out };
}

/**
 * Zipf(alpha) requests interrupted by scans: `scanShare` of all requests are in scans of `scanLength`
 * keys never requested before or after (keys above the Zipf range).
 */
export function zipfWithScans(
  id: string,
  label: string,
  alpha: number,
  keys: number,
  cacheSize: number,
  length: number,
  scanLength: number,
  scanShare: number,
  seed: number,
): Trace {
  const next = zipfSampler(keys, alpha, prng(seed));
  const between = Math.round((scanLength * (1 - scanShare)) / scanShare);
  const out = new Int32Array(length);
  const scanEnds: number[] = [];
  let fresh = keys;
  for (let i = 0; i < length; ) {
    for (let j = 0; j < between && i < length; j++) out[i++] = next();
    for (let j = 0; j < scanLength && i < length; j++) out[i++] = fresh++;
    if (i < length) scanEnds.push(i);
  }
  return { id, label, cacheSize, keys: out, scanEnds };
}

/** `keys` keys requested in order, over and over. */
export function loopTrace(id: string, label: string, keys: number, cacheSize: number, length: number): Trace {
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = i % keys;
  return { id, label, cacheSize, keys: out };
}

/**
 * Requests drawn uniformly from a working set of `size` consecutive keys that slides by one key
 * (the newest joins, the oldest leaves for good) every `every` requests.
 */
export function slidingTrace(id: string, label: string, size: number, every: number, cacheSize: number, length: number, seed: number): Trace {
  const random = prng(seed);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const base = Math.floor(i / every);
    out[i] = base + Math.floor(random() * size);
  }
  return { id, label, cacheSize, keys: out };
}
