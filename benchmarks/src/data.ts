import { serialize } from "node:v8";

/**
 * The data every case of a scenario shares: same arguments, same order, same values. Generated
 * from a fixed seed so runs are comparable with each other.
 */

/** mulberry32: a small seeded PRNG, enough to shuffle deterministically. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = prng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Scenario 1: 256 distinct integer ids, visited in a shuffled order. */
export function primitiveArguments(count = 256): number[] {
  return shuffled(
    Array.from({ length: count }, (_, i) => 10_000 + i * 37),
    1,
  );
}

/** Scenario 2: 1,024 distinct (string, number) pairs: 32 names × 32 pages, shuffled; two columns. */
export function twoArgumentColumns(): [string[], number[]] {
  const pairs: [string, number][] = [];
  for (let u = 0; u < 32; u++) for (let p = 0; p < 32; p++) pairs.push([`user-${u}`, p]);
  const order = shuffled(pairs, 2);
  return [order.map(([name]) => name), order.map(([, page]) => page)];
}

/** A query-options object, the kind of argument that is compared by value. */
export interface Query {
  userId: number;
  locale: string;
  page: number;
  pageSize: number;
  sort: { field: string; direction: "asc" | "desc" };
  filters: { active: boolean; roles: string[] };
}

function query(i: number): Query {
  return {
    userId: 1_000 + i,
    locale: i % 3 === 0 ? "en-US" : "de-DE",
    page: i % 7,
    pageSize: 20,
    sort: { field: i % 2 === 0 ? "name" : "createdAt", direction: i % 4 < 2 ? "asc" : "desc" },
    filters: { active: i % 5 !== 0, roles: i % 2 === 0 ? ["admin", "editor"] : ["viewer"] },
  };
}

/**
 * Scenario 3: 256 distinct queries. `prefill` fills the caches; `calls` holds equal but distinct
 * objects (built again, same key order), as when a caller builds its options object per call.
 */
export function queryArguments(count = 256): { prefill: Query[]; calls: Query[] } {
  const ids = shuffled(
    Array.from({ length: count }, (_, i) => i),
    3,
  );
  return { prefill: ids.map(query), calls: ids.map(query) };
}

/** A record of about 1 KiB once serialized: the value stored in the Redis and file scenarios. */
export interface RecordValue {
  id: number;
  name: string;
  email: string;
  createdAt: string;
  roles: string[];
  settings: Record<string, string | number | boolean>;
  history: { at: number; action: string }[];
}

export function record(id: number): RecordValue {
  return {
    id,
    name: `User number ${id}`,
    email: `user${id}@example.com`,
    createdAt: new Date(Date.UTC(2024, 0, 1) + id * 86_400_000).toISOString(),
    roles: ["reader", id % 2 === 0 ? "writer" : "guest"],
    settings: { theme: "dark", language: "en", notifications: true, pageSize: 50, timezone: "Europe/Berlin" },
    history: Array.from({ length: 24 }, (_, i) => ({ at: 1_700_000_000 + i * 3_600 + id, action: i % 3 === 0 ? "login" : "view" })),
  };
}

/** A loader of {@link record}s and how many times it ran (each hit case checks it ran only to fill). */
export interface CountedLoader<F> {
  readonly fn: F;
  executions(): number;
}

/** `async loadUser(id)` returning {@link record}, counting its executions. */
export function countedLoadUser(): CountedLoader<(id: number) => Promise<RecordValue>> {
  let calls = 0;
  return {
    fn: async function loadUser(id: number): Promise<RecordValue> {
      calls++;
      return record(id);
    },
    executions: () => calls,
  };
}

/** `loadUserSync(id)` returning {@link record}, counting its executions. */
export function countedLoadUserSync(): CountedLoader<(id: number) => RecordValue> {
  let calls = 0;
  return {
    fn: function loadUserSync(id: number): RecordValue {
      calls++;
      return record(id);
    },
    executions: () => calls,
  };
}

/** A value whose `node:v8` serialization is about `bytes` long: a list of small records, like a query result. */
export function payloadOfSize(bytes: number): { id: number; rows: { n: number; label: string; score: number; tags: string[] }[] } {
  const rows: { n: number; label: string; score: number; tags: string[] }[] = [];
  const value = { id: bytes, rows };
  const addRow = (): void => {
    const n = rows.length;
    rows.push({ n, label: `row-${n}`, score: n * 1.5, tags: ["a", "bc"] });
  };
  // Estimate the size of a row from a sample, then fill up and trim to just under the target.
  for (let i = 0; i < 64; i++) addRow();
  const perRow = (serialize(value).length - serialize({ id: bytes, rows: [] }).length) / rows.length;
  while (rows.length * perRow < bytes - 64) addRow();
  while (rows.length > 1 && serialize(value).length > bytes) rows.pop();
  return value;
}

/** Size of a value serialized with `node:v8`, in bytes. */
export function serializedSize(value: unknown): number {
  return serialize(value).length;
}

/** A human-readable byte count. */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(bytes >= 10_240 ? 0 : 1)} KiB` : `${bytes} B`;
}
