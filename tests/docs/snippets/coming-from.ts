import { MemoryState, Mime } from "@mimic/core";

/** Stand-ins for your own code: a slow lookup, counted. */
export const calls = { load: 0 };
async function loadUser(id: string, options: { full?: boolean } = {}): Promise<{ id: string; full: boolean }> {
  calls.load++;
  return { id, full: options.full === true };
}

// memoizee:  memoize(loadUser, { promise: true, maxAge: 1000, max: 100, normalizer: (args) => JSON.stringify(args) })
// moize:     moize(loadUser, { isPromise: true, maxAge: 1000, maxSize: 100, isSerialized: true })
// Mimic: seconds, every argument keyed by content, async detected, a bounded state of its own.
export const getUser = Mime({ ttl: 1, state: new MemoryState({ maxEntries: 100 }) })(loadUser);

// memoizee: memoized.delete("42")  ·  moize: memoized.remove(["42"])  ·  p-memoize: cache.delete(key)
export async function forgetUser(id: string): Promise<void> {
  await getUser.invalidate(id);
}

// p-memoize: pMemoize(loadUser, { cache: false }): only concurrent calls share one execution.
// Mimic: ttl 0 stores nothing reusable, and concurrent calls of an async function still coalesce.
export const dedupeOnly = Mime({ ttl: 0 })(loadUser);

// cache-manager: cache.wrap(`user:${id}`, () => loadUser(id), 60_000)
// bentocache:    bento.getOrSet({ key: `user:${id}`, factory: () => loadUser(id), ttl: "1m", grace: "6h", tags: [`user:${id}`] })
// Mimic: the key comes from the arguments; grace (serve the old value when the loader fails) is staleIfError.
export const getUserTagged = Mime({
  ttl: 60,
  staleIfError: 6 * 3600,
  tags: (id: string) => [`user:${id}`],
})(loadUser);

// bentocache: bento.deleteByTag({ tags: ["user:42"] })  ·  cache-manager: cache.del("user:42")
export async function userChanged(id: string): Promise<void> {
  await Mime.invalidateTags([`user:${id}`]);
}

// p-memoize: @pMemoizeDecorator() and pMemoizeClear(users.find)
// memoizee:  memoizeMethods / d(...) in the constructor
export class Users {
  @Mime({ ttl: 60 })
  async find(id: string): Promise<{ id: string; full: boolean }> {
    return loadUser(id);
  }
}
export async function clearUsersCache(users: Users): Promise<void> {
  await Mime.handles(users.find).clear();
}

// moize: moize(fn, { profileName: "getUser" }) and moize.getStats("getUser")
export function userStats(): { hits: number; misses: number } {
  const { hits, misses } = getUser.stats();
  return { hits, misses };
}
