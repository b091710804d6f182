/**
 * Belady's optimal hit count for a trace and a cache size, computed offline: on a miss with a full
 * cache, the key whose next request is farthest away goes (the requested key itself when it is the
 * one needed last, i.e. it is not cached). A max-heap of (next use, key) with stale entries skipped.
 * Returns, for each request, whether it was a hit.
 */
export function beladyHits(keys: Int32Array, cacheSize: number): Uint8Array {
  const n = keys.length;
  const nextUse = new Int32Array(n);
  const last = new Map<number, number>();
  for (let i = n - 1; i >= 0; i--) {
    nextUse[i] = last.get(keys[i]!) ?? n + i; // never again: farther than any real use, distinct
    last.set(keys[i]!, i);
  }
  const hits = new Uint8Array(n);
  /** Next use of each cached key. */
  const cached = new Map<number, number>();
  // Binary max-heap on next use; entries whose next use no longer matches `cached` are stale.
  const heapUse: number[] = [];
  const heapKey: number[] = [];
  const push = (use: number, key: number): void => {
    let i = heapUse.length;
    heapUse.push(use);
    heapKey.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heapUse[parent]! >= use) break;
      heapUse[i] = heapUse[parent]!;
      heapKey[i] = heapKey[parent]!;
      i = parent;
    }
    heapUse[i] = use;
    heapKey[i] = key;
  };
  const pop = (): void => {
    const use = heapUse.pop()!;
    const key = heapKey.pop()!;
    if (heapUse.length === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heapUse.length) break;
      if (child + 1 < heapUse.length && heapUse[child + 1]! > heapUse[child]!) child++;
      if (heapUse[child]! <= use) break;
      heapUse[i] = heapUse[child]!;
      heapKey[i] = heapKey[child]!;
      i = child;
    }
    heapUse[i] = use;
    heapKey[i] = key;
  };
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const use = nextUse[i]!;
    if (cached.has(key)) {
      hits[i] = 1;
      cached.set(key, use);
      push(use, key);
      continue;
    }
    if (cached.size >= cacheSize) {
      // Drop stale heap tops, then compare the farthest cached key with the requested one.
      while (cached.get(heapKey[0]!) !== heapUse[0]) pop();
      if (heapUse[0]! <= use) continue; // the requested key is needed last: do not cache it
      cached.delete(heapKey[0]!);
      pop();
    }
    cached.set(key, use);
    push(use, key);
  }
  return hits;
}
