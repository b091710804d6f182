import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TempFileState } from "@mimic/state-tempfile";
import { forkWorker, type Child } from "./support/children";
import { recordFigures } from "./support/figures";
// Plain JavaScript shared with the workers, so that the parent checks values exactly as they do.
import { checkValue, random } from "../workers/shared.cjs";

// Item 3 of the reliability issue: several processes on one static directory, and writers killed
// with SIGKILL in the middle of their writes.

const directories: string[] = [];
function testDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), "mimic-reliability-"));
  directories.push(directory);
  return directory;
}
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** Temporary files (`*.tmp`) anywhere under `directory`. */
function tempFiles(directory: string): string[] {
  return (readdirSync(directory, { recursive: true }) as string[]).filter((name) => name.endsWith(".tmp"));
}

interface HammerResult {
  elapsedMs: number;
  counts: { ops: number; reads: number; hits: number; writes: number; deletes: number; calls: number; exceptions: number; wrong: number };
  byOp: Record<string, number>;
  reported: Record<string, number>;
  failures: string[];
}

it("4 processes × 2,000 mixed operations on one static directory, 50 keys: no exception, no wrong value", async () => {
  const basePath = testDirectory();
  const workers = Array.from({ length: 4 }, (_, index) =>
    forkWorker("tempfile-hammer.mjs", [JSON.stringify({ basePath, ops: 2000, keys: 50, lanes: 4, index })]),
  );
  await Promise.all(workers.map((w) => w.message("ready")));
  for (const w of workers) w.send({ type: "go" });
  const results = await Promise.all(workers.map((w) => w.message<HammerResult>("result", 120_000)));
  const exits = await Promise.all(workers.map((w) => w.exit(15_000)));

  const total = { ops: 0, reads: 0, hits: 0, writes: 0, deletes: 0, calls: 0, exceptions: 0, wrong: 0 };
  for (const { counts } of results) for (const name of Object.keys(total) as Array<keyof typeof total>) total[name] += counts[name];
  const reported: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.reported)) reported[code] = (reported[code] ?? 0) + n;
  recordFigures("tempfile-contention", {
    processes: 4,
    ...total,
    errorsReported: reported,
    slowestProcessMs: Math.round(Math.max(...results.map((r) => r.elapsedMs))),
  });

  expect(results.flatMap((r) => r.failures)).toEqual([]);
  expect(exits).toEqual(Array(4).fill({ code: 0, signal: null }));
  expect(total.ops).toBe(8000);
  expect(total.exceptions).toBe(0);
  expect(total.wrong).toBe(0);
  expect(reported).toEqual({});
  // Contention really happened: values were read back, and every kind of operation ran.
  expect(total.hits).toBeGreaterThan(100);
  expect(total.writes).toBeGreaterThan(1000);
  expect(total.calls).toBeGreaterThan(1000);
}, 180_000);

interface ReaderResult {
  counts: { reads: number; hits: number; misses: number; wrong: number; exceptions: number };
  failures: string[];
}

it("a writer SIGKILLed 20 times in the middle of writes: no partial entry is ever read; the sweep removes its temp files", async () => {
  const basePath = testDirectory();
  const KEYS = 20;
  const reader = forkWorker("tempfile-reader.mjs", [JSON.stringify({ basePath, keys: KEYS })]);
  await reader.message("ready");
  const state = new TempFileState({ basePath, static: true, sweepEvery: 0 });
  const next = random(42);
  const problems: string[] = [];
  let killed = 0;
  let killsLeavingTempFiles = 0;
  let checkedReads = 0;
  let checkedHits = 0;

  /** Reads every key in this process (sync or async, by turns): a miss or a complete entry, never a throw. */
  /**
   * Watches the cache directory (blocking, for at most a second) and kills the writer as soon as one
   * of its temp files (".<digest>.<pid>.<unique>.tmp") exists: between the start of a write and its rename.
   */
  const isTempFileOf = (pid: string) => (name: string): boolean => path.basename(name).split(".")[2] === pid;
  function killMidWrite(writer: Child): void {
    const writing = isTempFileOf(String(writer.process.pid));
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline) {
      try {
        if (tempFiles(state.directory).some(writing)) break;
      } catch {
        // a directory vanished while it was listed (a rename or a sweep elsewhere): look again
      }
    }
    writer.kill("SIGKILL");
  }

  let passes = 0;
  async function checkAll(): Promise<void> {
    passes++;
    for (let k = 0; k < KEYS; k++) {
      const key = `writer|k${k}`;
      try {
        const entry = (passes + k) % 2 === 0 ? state.getSync(key) : await state.get(key);
        checkedReads++;
        if (entry !== undefined) checkedHits++;
        const problem = checkValue(key, entry?.value);
        if (problem !== undefined) problems.push(`${key}: ${problem}`);
      } catch (error) {
        problems.push(`${key}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
  }

  // Four writers at a time (5 kills each), so that kills also land while other writers rename.
  async function lane(laneIndex: number): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const config = { basePath, keys: KEYS, index: laneIndex * 100 + round, fsync: laneIndex % 2 === 0 };
      const writer: Child = forkWorker("tempfile-writer.mjs", [JSON.stringify(config)]);
      await writer.message("ready");
      await sleep(next() * 50);
      killMidWrite(writer);
      const exit = await writer.exited;
      if (exit.signal !== "SIGKILL") problems.push(`writer ${laneIndex}.${round} ended with ${JSON.stringify(exit)} instead of SIGKILL`);
      killed++;
      // A temp file of this writer (".<digest>.<pid>.<unique>.tmp") still there: the kill landed mid-write.
      if (tempFiles(state.directory).some(isTempFileOf(String(writer.process.pid)))) killsLeavingTempFiles++;
      await checkAll();
    }
  }
  await Promise.all([lane(0), lane(1), lane(2), lane(3)]);

  reader.send({ type: "stop" });
  const read = await reader.message<ReaderResult>("result");
  await reader.exit(15_000);
  const tempFilesBeforeSweep = tempFiles(state.directory).length;
  const sweep = await state.sweep();
  const tempFilesAfterSweep = tempFiles(state.directory).length;
  await checkAll();
  await state.close();

  recordFigures("tempfile-sigkill", {
    kills: killed,
    killsLeavingTempFiles,
    tempFilesBeforeSweep,
    sweptOrphans: sweep.orphans,
    sweptCorrupt: sweep.corrupt,
    tempFilesAfterSweep,
    entries: sweep.entries,
    parentReads: checkedReads,
    parentHits: checkedHits,
    readerProcess: read.counts,
  });

  expect(problems).toEqual([]);
  expect(read.failures).toEqual([]);
  expect(read.counts.wrong).toBe(0);
  expect(read.counts.exceptions).toBe(0);
  expect(killed).toBe(20);
  // The kills did land mid-write: at least 3 in 4 left a temp file behind (a kill can still land just
  // after a rename). The sweep removed all they left.
  expect(killsLeavingTempFiles).toBeGreaterThanOrEqual(15);
  expect(sweep.orphans).toBe(tempFilesBeforeSweep);
  expect(sweep.corrupt).toBe(0);
  expect(tempFilesAfterSweep).toBe(0);
  expect(read.counts.hits).toBeGreaterThan(0);
}, 180_000);
