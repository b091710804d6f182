/**
 * Runs `operation` on every key, 100 at a time: concurrent enough to mix requests, without a burst of
 * a thousand that would only measure a backend's per-operation timeout on a busy machine.
 */
export async function inBatches<T>(keys: string[], operation: (key: string, index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    results.push(...(await Promise.all(keys.slice(start, start + 100).map((key, offset) => operation(key, start + offset)))));
  }
  return results;
}
