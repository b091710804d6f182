import { Mime } from "@mimic/core";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { RedisState } from "../src/index.js";
import { connectRawClient, startRedisServer, type RawClient, type RedisServerHandle } from "./harness/index.js";
import { RELAXED_TIMEOUT_MS } from "./helpers.js";

// Coherence of the local layer across real processes: process A (fixtures/local-watch.mjs) serves
// `watched(1)` from its local layer in a loop; this process (B) overwrites the entry through Mimic
// and with raw commands, and measures how long A keeps answering the old value.

/** How stale A may be after B's write has been acknowledged (the bound). */
const STALENESS_BOUND_MS = 100;
/** Writes per kind and mode; the bound must hold for the median, and every write must be seen. */
const ROUNDS = 10;

interface Line {
  readonly event: "ready" | "change";
  readonly at?: number;
  readonly value: { readonly by?: string; readonly calls?: number; readonly error?: string };
  readonly stats?: { readonly flushes: number; readonly tracking: boolean };
}

/** A running process A and its output lines, in order. */
class Watcher {
  readonly #child: ChildProcess;
  readonly #lines: Line[] = [];
  readonly #waiters = new Set<() => void>();
  #stderr = "";

  constructor(url: string, prefix: string, mode: "async" | "sync") {
    this.#child = spawn(process.execPath, [path.join(__dirname, "fixtures", "local-watch.mjs"), url, prefix, mode], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child.stderr!.on("data", (chunk: Buffer) => (this.#stderr += chunk.toString()));
    createInterface({ input: this.#child.stdout! }).on("line", (text) => {
      this.#lines.push(JSON.parse(text) as Line);
      for (const wake of this.#waiters) wake();
    });
  }

  /** The next line after the first `from` lines that satisfies `match`, waiting up to `timeoutMs`. */
  async next(from: number, match: (line: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#lines.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`process A: no ${what} within ${timeoutMs} ms; stderr: ${this.#stderr || "(none)"}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  get count(): number {
    return this.#lines.length;
  }

  kill(): void {
    this.#child.kill("SIGKILL");
  }
}

let server: RedisServerHandle;
let raw: RawClient;
const watchers: Watcher[] = [];
const states: RedisState[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  raw = await connectRawClient(server.url);
}, 30_000);

afterEach(async () => {
  for (const watcher of watchers.splice(0)) watcher.kill();
  await Promise.all(states.splice(0).map((state) => state.close()));
});

afterAll(async () => {
  await raw?.close();
  await server?.stop();
});

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe.each(["async", "sync"] as const)("process A with a %s function", (mode) => {
  test("sees process B's overwrites through Mimic and through raw SET within the bound", async () => {
    const prefix = `watch-${mode}:`;
    const watcher = new Watcher(server.url, prefix, mode);
    watchers.push(watcher);
    await watcher.next(0, (line) => line.event === "ready", 20_000, "ready line (value served by the local layer)");

    const state = new RedisState({ url: server.url, prefix, timeout: RELAXED_TIMEOUT_MS });
    states.push(state);
    // B's function has the same name, so the same key as A's (the same name in another process).
    const load = mode === "sync" ? (id: number) => ({ id }) : async (id: number) => ({ id });
    const writer = Mime({ ttl: 60, state, name: "watched" })(load as (id: number) => unknown);
    const entryKey = writer.key(1) as string;
    const key = `${prefix}${entryKey}`;

    const staleness: { mimic: number[]; raw: number[] } = { mimic: [], raw: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      // Through Mimic's state, under the key of A's call. (Not invalidate-then-call: A would recompute
      // and store its own value in between, and B's call would then hit it.)
      let from = watcher.count;
      await state.set(entryKey, { id: 1, by: "B", calls: round }, 60);
      let written = Date.now();
      let seen = await watcher.next(from, (line) => line.event === "change" && line.value.by === "B" && line.value.calls === round, 5000, `B's value #${round}`);
      staleness.mimic.push(seen.at! - written);

      // Raw: copy the bytes of another entry of B's over A's key.
      from = watcher.count;
      const other = `${prefix}copy-source`;
      await state.set(other.slice(prefix.length), { id: 1, by: "B", calls: 1000 + round }, 60);
      const bytes = (await raw.sendCommand(["GET", other], { typeMapping: { 36: Buffer } })) as Buffer;
      await raw.sendCommand(["SET", key, bytes]);
      written = Date.now();
      seen = await watcher.next(from, (line) => line.event === "change" && line.value.calls === 1000 + round, 5000, `raw value #${round}`);
      staleness.raw.push(seen.at! - written);
    }
    // Every write was seen (above); the typical one within the bound. (Single outliers on a loaded
    // 2-core machine are scheduling, not coherence: a missed invalidation would never be seen at all.)
    expect(median(staleness.mimic)).toBeLessThanOrEqual(STALENESS_BOUND_MS);
    expect(median(staleness.raw)).toBeLessThanOrEqual(STALENESS_BOUND_MS);
    process.stdout.write(`local layer staleness (${mode}): through Mimic ${JSON.stringify(staleness.mimic)} ms, raw SET ${JSON.stringify(staleness.raw)} ms\n`);
  }, 90_000);
});

test("killing and restarting Redis flushes process A's local layer; A then computes afresh", async () => {
  const own = await startRedisServer();
  try {
    const watcher = new Watcher(own.url, "watch-restart:", "async");
    watchers.push(watcher);
    const ready = await watcher.next(0, (line) => line.event === "ready", 20_000, "ready line");
    expect(ready.value).toMatchObject({ by: "A", calls: 1 });
    const from = watcher.count;
    own.kill("SIGKILL");
    await own.restart();
    // The restarted server is empty: A must run its function again (calls: 2) rather than keep
    // serving its local copy of the value from before.
    const after = await watcher.next(from, (line) => line.event === "change" && line.value.calls === 2, 20_000, "a fresh computation after the restart");
    expect(after.value).toMatchObject({ by: "A", calls: 2 });
    expect(after.stats!.flushes).toBeGreaterThanOrEqual(1);
  } finally {
    await own.stop();
  }
}, 60_000);
