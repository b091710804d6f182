import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { InvalidTtlError, Mime, MimicTimeoutError, type IState, type MimicError } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { TempFileState } from "@mimic/state-tempfile";
import { startRedisServer, type RedisServerHandle } from "../../../packages/state-redis/test/harness";
import { forkWorker } from "./support/children";

// Freshness control (ttl from the result, refresh ahead, timeouts) and faithful values on the shared
// states, with real servers, directories and processes: the same rules core's tests check on memory.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let server: RedisServerHandle;
let dir: string;
const states: IState[] = [];
let names = 0;

beforeAll(async () => {
  server = await startRedisServer();
  dir = mkdtempSync(path.join(tmpdir(), "mimic-freshness-"));
});
afterAll(async () => {
  await Promise.all(states.splice(0).map((state) => state.close?.()));
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const kinds = {
  RedisState: () => new RedisState({ url: server.url, prefix: `reliability:freshness:${names}:`, timeout: 2000 }),
  TempFileState: () => new TempFileState({ basePath: path.join(dir, `static-${names}`), static: true }),
};
function stateOf(kind: keyof typeof kinds): IState {
  const state = kinds[kind]();
  states.push(state);
  return state;
}
const uniqueName = (what: string): string => `reliability.freshness.${what}.${++names}`;

/**
 * Refresh ahead replaces each expiry once: runs of the function (their start times, ms) are far
 * apart. A second refresh of one expiry (two processes, or a hit that read the entry before the
 * refresh's write landed) would start within milliseconds of the first; an XFetch refresh with the
 * β used here starts a few hundred ms before expiry at most, so consecutive runs are over a quarter
 * of a ttl apart. (Counting runs per wall-clock period is not a bound: each refresh starts the next
 * period early.)
 */
function expectOneRunPerExpiry(starts: number[], ttlSeconds: number): void {
  const sorted = [...starts].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((start, i) => start - (sorted[i] as number));
  expect(gaps.filter((gap) => gap < (ttlSeconds * 1000) / 4)).toEqual([]);
}

describe.each(Object.keys(kinds) as (keyof typeof kinds)[])("%s", (kind) => {
  test("a value node:v8 would give back changed is returned, not stored, and reported by class", async () => {
    class Money {
      constructor(readonly cents: number) {}
      format(): string {
        return `$${(this.cents / 100).toFixed(2)}`;
      }
    }
    class NotFound extends Error {}
    const state = stateOf(kind);
    const errors: MimicError[] = [];
    let calls = 0;
    const lossy = Mime({ state, name: uniqueName("lossy"), onError: (error) => void errors.push(error) })(async (what: string) => {
      calls++;
      return what === "url" ? new URL("https://example.com/x") : what === "money" ? new Money(1234) : new NotFound("nope");
    });
    for (const what of ["url", "money", "error"]) {
      const first = await lossy(what);
      const second = await lossy(what);
      expect(second).not.toBe(first); // recomputed: never served from the cache
      expect(Object.getPrototypeOf(second)).toBe(Object.getPrototypeOf(first));
    }
    expect(calls).toBe(6);
    const messages = errors.map((error) => error.message).join("\n");
    expect(messages).toMatch(/URL instance/);
    expect(messages).toMatch(/Money instance/);
    expect(messages).toMatch(/NotFound \(an Error subclass\)/);
    expect(messages).toMatch(/return plain data .* serializer/);
  });

  test("ttl from the result: 0 is not stored, a short ttl expires, a failing ttl function is reported", async () => {
    const state = stateOf(kind);
    const errors: MimicError[] = [];
    let calls = 0;
    const find = Mime({
      state,
      name: uniqueName("ttl"),
      onError: (error) => void errors.push(error),
      ttl: (user: unknown) => (user === null ? 0 : user === "short" ? 0.3 : user === "bad" ? -1 : 60),
    })(async (id: string) => {
      calls++;
      return id === "none" ? null : id;
    });
    for (const id of ["none", "short", "bad", "long"]) await find(id);
    for (const id of ["none", "short", "bad", "long"]) await find(id);
    expect(calls).toBe(6); // none and bad twice, short and long once
    await sleep(700);
    await find("short");
    await find("long");
    expect(calls).toBe(7);
    expect(errors.filter((error) => error instanceof InvalidTtlError)).toHaveLength(2);
  });

  test("refresh ahead: a hot key is recomputed before it expires, and every call after the first is a hit", async () => {
    const state = stateOf(kind);
    const starts: number[] = [];
    // Δ ≈ 20 ms and β = 3: with a call every ~5 ms a refresh starts ~150 ms before expiry (XFetch
    // shortens each period by that much, so the number of runs depends on the pace of the loop).
    const ttl = 1;
    const hot = Mime({ state, name: uniqueName("hot"), ttl, refreshAhead: 3 })(async () => {
      starts.push(Date.now());
      await sleep(20);
      return starts.length;
    });
    await hot();
    let calls = 1;
    const end = Date.now() + 2500;
    const seen = new Set<number>();
    while (Date.now() < end) {
      seen.add((await hot()) as number);
      calls++;
      await sleep(5);
    }
    expect(hot.stats().hits).toBe(calls - 1);
    expect(seen.size).toBeGreaterThan(1); // values moved on without a caller waiting at expiry
    expectOneRunPerExpiry(starts, ttl);
  });

  test("a hard timeout rejects with MIMIC_TIMEOUT and the late result is stored for every process", async () => {
    const name = uniqueName("slow");
    const slow = Mime({ state: stateOf(kind), name, ttl: 60, timeout: { hard: 0.05 } })(async () => {
      await sleep(300);
      return "late";
    });
    await expect(slow()).rejects.toBeInstanceOf(MimicTimeoutError);
    await sleep(500);
    const reader = Mime({ state: stateOf(kind), name, ttl: 60 })(async () => "recomputed");
    await expect(reader()).resolves.toBe("late");
  });
});

describe("refresh ahead with lock across processes", () => {
  test.each(["redis", "tempfile"])("%s: two processes, one refresh per period, no call waits at expiry", async (kind) => {
    const config = {
      kind,
      url: server.url,
      basePath: path.join(dir, "cross-process"),
      name: uniqueName(`cross-${kind}`),
      ttl: 1.5,
      beta: 5,
      functionMs: 20,
      durationMs: 4000,
      lock: true,
    };
    const workers = [0, 1].map(() => forkWorker("refresh-ahead.mjs", [JSON.stringify(config)]));
    await Promise.all(workers.map((worker) => worker.message("ready")));
    workers.forEach((worker) => worker.send({ type: "go" }));
    const results = await Promise.all(workers.map((worker) => worker.message<{ calls: number; hits: number; coalesced: number; executions: number; starts: number[] }>("done", 30_000)));
    await Promise.all(workers.map((worker) => worker.exit(10_000)));
    const starts = results.flatMap((r) => r.starts);
    // One first execution (the lock makes the other process wait for it), then one refresh per expiry
    // across both processes.
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expectOneRunPerExpiry(starts, config.ttl);
    for (const r of results) {
      // Every call but the first of each process was a hit (the first ran the function or waited on the lock).
      expect(r.hits).toBeGreaterThanOrEqual(r.calls - 1);
    }
  });
});
