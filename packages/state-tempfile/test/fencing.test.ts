import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError, fencesWrites, type SetOptions } from "@mimic/core";
import { TempFileState } from "../src";
import { FENCE_WINDOW_MS } from "../src/fences";
import { lastJson, removeTestDirectories, runChild, startChild, tempFiles, testDirectory, waitForExit, waitForOutput } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

/** Two states on one static directory: what two processes sharing it see (the real processes come below). */
function pair(): { a: TempFileState; b: TempFileState; basePath: string } {
  const basePath = testDirectory();
  const a = new TempFileState({ basePath, static: true });
  const b = new TempFileState({ basePath, static: true });
  states.push(a, b);
  return { a, b, basePath };
}

/** Waits (without sleeping) until the clock has moved past `time`, so that a new execution starts after it. */
function after(time: number): number {
  while (Date.now() <= time);
  return Date.now();
}

const KEY = "user|42";
const TAGS = ["user:42", "users"];

type Set = (state: TempFileState, value: unknown, options: SetOptions) => Promise<void>;
const apis: Array<[string, Set]> = [
  ["set", (state, value, options) => state.set(KEY, value, null, options)],
  ["setSync", async (state, value, options) => state.setSync(KEY, value, null, options)],
];

type Invalidate = (state: TempFileState) => Promise<void> | void;
const covering: Array<[string, Invalidate]> = [
  ["delete of the key", (b) => b.delete(KEY)],
  ["deleteSync of the key", (b) => b.deleteSync(KEY)],
  ["deletePrefix of its namespace", (b) => b.deletePrefix("user|")],
  ["deletePrefixSync of a longer prefix covering it", (b) => b.deletePrefixSync("user|4")],
  ['deletePrefix("")', (b) => b.deletePrefix("")],
  ["clear", (b) => b.clear()],
  ["clearSync", (b) => b.clearSync()],
  ["invalidateTags of one of its tags", (b) => b.invalidateTags(["users", "other"])],
];

const unrelated: Array<[string, Invalidate]> = [
  ["delete of another key", (b) => b.delete("user|43")],
  ["deletePrefix of another namespace", (b) => b.deletePrefix("order|")],
  ["deletePrefix of a prefix that does not cover it", (b) => b.deletePrefix("user|5")],
  ["invalidateTags of other tags", (b) => b.invalidateTags(["user:43"])],
];

it("declares fencesWrites", () => {
  const state = new TempFileState({ basePath: testDirectory() });
  states.push(state);
  expect(state.fencesWrites).toBe(true);
  expect(fencesWrites(state)).toBe(true);
});

describe.each(apis)("a fenced %s", (_, set) => {
  it.each(covering)("that began before a %s (by another state on the directory) stores nothing", async (__, invalidate) => {
    const { a, b } = pair();
    await a.set(KEY, "older", null, { tags: TAGS });
    const startedAt = Date.now();
    await invalidate(b);
    await set(a, "old", { tags: TAGS, startedAt });
    expect(b.getSync(KEY)).toBeUndefined();
    expect(await a.get(KEY)).toBeUndefined();
    expect(tempFiles(a.directory)).toEqual([]);
    // An execution that began after the invalidation is stored.
    const later = after(Date.now());
    await set(a, "new", { tags: TAGS, startedAt: later });
    expect(b.getSync(KEY)).toEqual({ value: "new" });
  });

  it.each(unrelated)("is stored after a %s", async (__, invalidate) => {
    const { a, b } = pair();
    const startedAt = Date.now();
    await invalidate(b);
    await set(a, "value", { tags: ["user:42"], startedAt });
    expect(b.getSync(KEY)).toEqual({ value: "value" });
  });

  it("whose execution began more than the fence window ago stores nothing; without startedAt it is stored", async () => {
    const { a } = pair();
    await set(a, "slow", { startedAt: Date.now() - FENCE_WINDOW_MS - 1000 });
    expect(a.getSync(KEY)).toBeUndefined();
    await a.delete(KEY);
    await set(a, "unfenced", {});
    expect(a.getSync(KEY)).toEqual({ value: "unfenced" });
  });

  it("refuses a startedAt that is not a time", async () => {
    const { a } = pair();
    await expect(set(a, "x", { startedAt: "now" as unknown as number })).rejects.toThrow(InvalidOptionError);
    await expect(set(a, "x", { startedAt: Number.NaN })).rejects.toThrow(/startedAt must be a time in ms since the epoch, got NaN/);
  });
});

it("a sweep removes invalidation stamps no write needs any more, and keeps the current ones", async () => {
  const { a, b } = pair();
  await b.delete(KEY);
  const fences = join(a.directory, "f2");
  const current = readdirSync(fences);
  expect(current).toHaveLength(1);
  const old = String(Number(current[0]) - 2);
  mkdirSync(join(fences, old, "k-x"), { recursive: true });
  const report = await a.sweep();
  expect(report.fences).toBe(1);
  expect(readdirSync(fences)).toEqual(current);
  // The kept stamp still fences a write that began before it.
  await a.set(KEY, "old", null, { startedAt: Date.now() - 60_000 });
  expect(a.getSync(KEY)).toBeUndefined();
});

it("invalidations count towards sweepEvery, so stamps are swept even where nothing is written", async () => {
  const basePath = testDirectory();
  const state = new TempFileState({ basePath, static: true, sweepEvery: 3 });
  states.push(state);
  await state.sweep();
  state.deleteSync("user|1");
  const fences = join(state.directory, "f2");
  const [current] = readdirSync(fences);
  const old = join(fences, String(Number(current) - 2));
  mkdirSync(join(old, "k-x"), { recursive: true });
  await state.delete("user|2");
  expect(readdirSync(fences)).toContain(String(Number(current) - 2));
  await state.invalidateTags(["t"]);
  expect(readdirSync(fences)).toEqual([current]);
});

describe("across real processes on one static directory", () => {
  it.each<[string, string, string, string]>([
    ["delete", "delete", KEY, "async"],
    ["deleteSync", "deleteSync", KEY, "sync"],
    ["invalidateTags", "invalidateTags", JSON.stringify(["users"]), "async"],
    ["invalidateTags (setSync)", "invalidateTags", JSON.stringify(["user:42"]), "sync"],
    ["clear", "clear", "", "async"],
    ["deletePrefix", "deletePrefix", "user|", "sync"],
  ])("A starts a flight, B's %s resolves, A's set does not store", async (_, kind, argument, api) => {
    const basePath = testDirectory();
    const reader = new TempFileState({ basePath, static: true });
    states.push(reader);
    await reader.set(KEY, "before", null, { tags: TAGS });
    const writer = startChild("fenced-writer.mjs", [basePath, KEY, JSON.stringify(TAGS), api], { stdin: true });
    const written = waitForExit(writer);
    await waitForOutput(writer, "started");
    const invalidated = await runChild("fence-invalidate.mjs", [basePath, kind, argument]);
    expect(lastJson(invalidated)).toEqual({ invalidated: kind });
    expect(reader.getSync(KEY)).toBeUndefined();
    writer.stdin?.end("go\n");
    const result = await written;
    expect(lastJson(result)).toEqual({ stored: false });
    expect(reader.getSync(KEY)).toBeUndefined();
  });

  it("a race of two writers and an invalidator: no value whose execution began before a resolved invalidation is ever read", async () => {
    const basePath = testDirectory();
    const stop = join(testDirectory(), "stop");
    const writers = [0, 1].map(() => runChild("fence-race.mjs", ["writer", basePath, "0", stop]));
    const invalidator = lastJson<{ violations: number; reads: number; hits: number; examples: unknown[] }>(
      await runChild("fence-race.mjs", ["invalidator", basePath, "300", stop]),
    );
    const written = (await Promise.all(writers)).map((result) => lastJson<{ writes: number; stored: number; failed: number }>(result));
    expect(invalidator.examples).toEqual([]);
    expect(invalidator.violations).toBe(0);
    expect(invalidator.reads).toBe(600);
    for (const writer of written) expect(writer.writes).toBeGreaterThan(writer.failed);
    expect(written.reduce((total, writer) => total + writer.stored, 0)).toBeGreaterThan(0);
  });
});
