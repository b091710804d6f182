import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CorruptEntryError, StateError, digestKey } from "@mimic/core";
import { FileSystemStateError, TempFileState, type TempFileStateOptions } from "../src";
import { deadPid, entryFiles, removeTestDirectories, runChild, tempFiles, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

function newState(options: TempFileStateOptions = {}): { state: TempFileState; errors: StateError[] } {
  const errors: StateError[] = [];
  const state = new TempFileState({ basePath: testDirectory(), onError: (error) => errors.push(error), ...options });
  states.push(state);
  return { state, errors };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


/** A temporary file named as a writer with `pid` would leave it, next to `key`'s entry. */
function plantTempFile(state: TempFileState, key: string, pid: number): string {
  const digest = digestKey(key);
  const shard = dirname(state.entryFile(key));
  mkdirSync(shard, { recursive: true });
  const path = join(shard, `.${digest}.${pid}.abc123.tmp`);
  writeFileSync(path, "half an entry");
  return path;
}

describe.each([
  ["sweep()", (state: TempFileState) => state.sweep()],
  ["sweepSync()", async (state: TempFileState) => state.sweepSync()],
])("%s", (_, sweep) => {
  it("removes expired entries and keeps live ones", async () => {
    const { state } = newState();
    for (let i = 0; i < 5; i++) state.setSync(`f|short${i}`, i, 0.01);
    for (let i = 0; i < 3; i++) await state.set(`f|long${i}`, i, 60);
    state.setSync("f|forever", "x", null);
    await pause(30);
    const report = await sweep(state);
    expect(report).toMatchObject({ entries: 4, expired: 5, corrupt: 0, orphans: 0, evicted: 0 });
    expect(report.bytes).toBeGreaterThan(0);
    expect(entryFiles(state.directory)).toHaveLength(4);
    expect(state.getSync("f|forever")).toEqual({ value: "x" });
  });

  it("removes temp files of dead writers, keeps those of live ones unless they are stale", async () => {
    const { state } = newState();
    const dead = plantTempFile(state, "f|1", deadPid());
    const parent = plantTempFile(state, "f|2", process.ppid);
    const own = plantTempFile(state, "f|3", process.pid);
    const stale = plantTempFile(state, "f|4", process.ppid);
    const longAgo = new Date(Date.now() - 11 * 60 * 1000);
    utimesSync(stale, longAgo, longAgo);
    const report = await sweep(state);
    expect(report.orphans).toBe(2);
    expect([dead, parent, own, stale].map(existsSync)).toEqual([false, true, true, false]);
  });

  it("removes corrupt entries and reports them; leaves files that are not Mimic's alone", async () => {
    const { state, errors } = newState();
    state.setSync("f|good", 1, null);
    const bad = state.entryFile("f|bad");
    mkdirSync(dirname(bad), { recursive: true });
    writeFileSync(bad, "garbage");
    writeFileSync(join(state.directory, "README.txt"), "someone's notes");
    writeFileSync(join(dirname(bad), "notes.tmp"), "not ours either");
    const report = await sweep(state);
    expect(report).toMatchObject({ entries: 1, corrupt: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CorruptEntryError);
    expect(existsSync(join(state.directory, "README.txt"))).toBe(true);
    expect(existsSync(join(dirname(bad), "notes.tmp"))).toBe(true);
  });

  it("reports a file it cannot read and goes on with the others", async () => {
    const { state, errors } = newState();
    state.setSync("f|expired", 1, 0.01);
    const digest = digestKey("f|unreadable");
    mkdirSync(state.entryFile("f|unreadable"), { recursive: true });
    await pause(30);
    const report = await sweep(state);
    expect(report.expired).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FileSystemStateError);
    expect((errors[0] as FileSystemStateError).systemCode).toBe("EISDIR");
    expect((errors[0] as FileSystemStateError).path).toContain(digest);
  });
});

describe("bounds", () => {
  it.each([
    ["setSync", (state: TempFileState, key: string, value: unknown) => state.setSync(key, value, null)],
    ["set", (state: TempFileState, key: string, value: unknown) => state.set(key, value, null)],
  ])("maxEntries evicts the oldest entries first (%s)", async (_, set) => {
    const { state } = newState({ maxEntries: 10 });
    for (let i = 0; i < 25; i++) {
      await set(state, `f|${i}`, i);
      expect(entryFiles(state.directory).length).toBeLessThanOrEqual(10);
    }
    const present = [];
    for (let i = 0; i < 25; i++) if (state.getSync(`f|${i}`)) present.push(i);
    expect(present.length).toBeGreaterThanOrEqual(9);
    expect(present).toEqual(Array.from({ length: present.length }, (__, i) => 25 - present.length + i));
  });

  it("maxBytes bounds the total size of the entry files", async () => {
    const { state } = newState({ maxBytes: 20_000 });
    for (let i = 0; i < 30; i++) {
      state.setSync(`f|${i}`, "x".repeat(1000), null);
      const total = entryFiles(state.directory).reduce((sum, file) => sum + statSync(join(state.directory, file)).size, 0);
      expect(total).toBeLessThanOrEqual(20_000);
    }
    expect(state.getSync("f|29")).toBeDefined();
    expect(state.getSync("f|0")).toBeUndefined();
  });

  it("a static directory's existing content counts from the first write", async () => {
    const basePath = testDirectory();
    const before = new TempFileState({ basePath, static: true });
    states.push(before);
    for (let i = 0; i < 20; i++) before.setSync(`f|${i}`, i, null);
    const { state } = newState({ basePath, static: true, maxEntries: 5 });
    state.setSync("f|new", "new", null);
    expect(entryFiles(state.directory).length).toBeLessThanOrEqual(5);
    expect(state.getSync("f|new")).toEqual({ value: "new" });
  });
});

describe("when sweeps run", () => {
  it("every sweepEvery writes, inside the write", async () => {
    const { state } = newState({ sweepEvery: 5 });
    for (let i = 0; i < 4; i++) state.setSync(`f|${i}`, i, 0.01);
    await pause(30);
    expect(entryFiles(state.directory)).toHaveLength(4);
    await state.set("f|fifth", 5, null);
    expect(entryFiles(state.directory)).toHaveLength(1);
  });

  it("never on writes with sweepEvery 0 and no bounds", async () => {
    const { state } = newState({ sweepEvery: 0 });
    for (let i = 0; i < 30; i++) state.setSync(`f|${i}`, i, 0.001);
    await pause(20);
    state.setSync("f|last", 1, null);
    expect(entryFiles(state.directory)).toHaveLength(31);
  });

  it("on an unref'd timer with sweepInterval, reporting failures to onError", async () => {
    const { state, errors } = newState({ sweepInterval: 0.02, sweepEvery: 0 });
    state.setSync("f|expiring", 1, 0.01);
    mkdirSync(state.entryFile("f|unreadable"), { recursive: true });
    for (let waited = 0; entryFiles(state.directory).length > 0 && waited < 10_000; waited += 20) await pause(20);
    expect(entryFiles(state.directory)).toHaveLength(0);
    expect(errors.some((error) => error instanceof FileSystemStateError && error.systemCode === "EISDIR")).toBe(true);
  });

  it("the timer does not keep a process alive", async () => {
    const result = await runChild("timer.mjs", [testDirectory()]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout.trim()).toBe("wrote; exiting by myself");
  });

  it("clear removes every entry and dead writers' temp files, and nothing else", async () => {
    const { state } = newState();
    for (let i = 0; i < 10; i++) state.setSync(`f|${i}`, i, null);
    const orphan = plantTempFile(state, "f|x", deadPid());
    writeFileSync(join(state.directory, "keep.txt"), "");
    await state.clear();
    expect(entryFiles(state.directory)).toHaveLength(0);
    expect(existsSync(orphan)).toBe(false);
    expect(tempFiles(state.directory)).toHaveLength(0);
    expect(existsSync(join(state.directory, "keep.txt"))).toBe(true);
  });
});

describe("layout housekeeping", () => {
  it("removes empty shard and namespace directories; a later write makes them again", async () => {
    const { state } = newState();
    state.setSync("gone|1", 1, 0.01);
    state.setSync("kept|1", 1, null);
    await pause(30);
    await state.sweep();
    const goneNamespace = dirname(dirname(state.entryFile("gone|1")));
    expect(existsSync(goneNamespace)).toBe(false);
    expect(existsSync(state.entryFile("kept|1"))).toBe(true);
    state.setSync("gone|2", 2, null);
    expect(state.getSync("gone|2")).toEqual({ value: 2 });
    expect(existsSync(goneNamespace)).toBe(true);
  });

  it("removes an older release's files (layout 1: shards right under the directory) and leaves foreign files", async () => {
    const { state } = newState();
    state.setSync("f|current", "kept", null);
    const legacy = join(state.directory, "ab");
    mkdirSync(legacy);
    writeFileSync(join(legacy, "ab".padEnd(64, "0")), "an entry of format version 1");
    writeFileSync(join(legacy, `.${"ab".padEnd(64, "0")}.${deadPid()}.x1.tmp`), "half of one");
    writeFileSync(join(legacy, "notes"), "not ours");
    const report = state.sweepSync();
    expect(report).toMatchObject({ obsolete: 2, corrupt: 0, entries: 1 });
    expect(readdirSync(legacy)).toEqual(["notes"]);
    expect(state.getSync("f|current")).toEqual({ value: "kept" });
  });

  it("finishes removing trash directories whose remover died, and leaves a live remover's alone", async () => {
    const { state } = newState();
    const abandoned = join(state.directory, `.trash-${deadPid()}-abc`);
    const busy = join(state.directory, `.trash-${process.pid}-def`);
    for (const trash of [abandoned, busy]) {
      mkdirSync(join(trash, "ab"), { recursive: true });
      writeFileSync(join(trash, "ab", "ab".padEnd(64, "1")), "a removed entry");
    }
    const report = await state.sweep();
    expect(report.orphans).toBe(1);
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(busy)).toBe(true);
  });
});
