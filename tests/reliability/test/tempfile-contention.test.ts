import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
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

/**
 * Blocks until every thread of process `pid` is stopped (after SIGSTOP), read from
 * /proc/<pid>/task/<tid>/stat (state T or t), so that nothing it does can change the disk meanwhile.
 */
function waitUntilStopped(pid: number): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    const states = readdirSync(`/proc/${pid}/task`).map((tid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      } catch {
        return "T"; // the thread ended
      }
    });
    if (states.every((state) => state === "T" || state === "t")) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within 5 s (thread states ${states.join("")})`);
  }
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
  let killsMidWrite = 0;
  let killsLeavingTempFiles = 0;
  let checkedReads = 0;
  let checkedHits = 0;

  /** Reads every key in this process (sync or async, by turns): a miss or a complete entry, never a throw. */
  /**
   * Kills the writer while one of its temp files (".<digest>.<pid>.<unique>.tmp") exists, that is
   * between the start of a write and its rename, and says whether it did. Killing as soon as a listing
   * shows the file is not enough: a small write can be renamed before the signal lands. So the writer
   * is frozen first (SIGSTOP, waiting until every thread of it is stopped: async writes run on
   * libuv's threads), the directory is listed again, and only a writer frozen with its temp file
   * present is killed; otherwise it resumes and the next write is tried.
   */
  const isTempFileOf = (pid: string) => (name: string): boolean => path.basename(name).split(".")[2] === pid;
  function killMidWrite(writer: Child): boolean {
    const pid = writer.process.pid!;
    const writing = (): boolean => {
      try {
        return tempFiles(state.directory).some(isTempFileOf(String(pid)));
      } catch {
        return false; // a directory vanished while it was listed (a rename elsewhere): look again
      }
    };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!writing()) continue;
      writer.kill("SIGSTOP");
      waitUntilStopped(pid);
      if (writing()) {
        writer.kill("SIGKILL");
        return true;
      }
      writer.kill("SIGCONT");
    }
    writer.kill("SIGKILL");
    return false;
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
      const midWrite = killMidWrite(writer);
      const exit = await writer.exited;
      if (exit.signal !== "SIGKILL") problems.push(`writer ${laneIndex}.${round} ended with ${JSON.stringify(exit)} instead of SIGKILL`);
      killed++;
      if (midWrite) killsMidWrite++;
      // The temp file of the write it was killed in is still there (nothing sweeps until the end).
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
    killsMidWrite,
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
  // Every kill landed mid-write (the writer was frozen with its temp file present), and each left
  // that temp file behind. The sweep removed all they left.
  expect(killsMidWrite).toBe(20);
  expect(killsLeavingTempFiles).toBe(20);
  expect(sweep.orphans).toBe(tempFilesBeforeSweep);
  expect(sweep.corrupt).toBe(0);
  expect(tempFilesAfterSweep).toBe(0);
  expect(read.counts.hits).toBeGreaterThan(0);
}, 180_000);
