import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Mime, digestKey } from "@mimic/core";
import { FileSystemStateError, TempFileState } from "../src";
import { decodeHeader, decodeTags, encodeSerializerName } from "../src/format";
import { namespaceOf } from "../src/paths";
import { deadPid, entryFiles, filesUnder, lastJson, pause, removeTestDirectories, runChild, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

function newState(basePath = testDirectory(), isStatic = true): TempFileState {
  const state = new TempFileState({ basePath, static: isStatic, sweepEvery: 0 });
  states.push(state);
  return state;
}

const id = (text: string): string => digestKey(text).slice(0, 32);
const tagDirectory = (state: TempFileState, tag: string): string => join(state.directory, `t2-${id(tag)}`);
const markerOf = (key: string): string => `${id(namespaceOf(key))}-${digestKey(key)}`;
const tagDirectories = (state: TempFileState): string[] => readdirSync(state.directory).filter((name) => name.startsWith("t2-"));

describe("the tag index on disk", () => {
  it("a tagged write leaves one empty marker (0600) per tag, named after the entry; an untagged one none", async () => {
    const state = newState();
    await state.set("f|1", 1, null, { tags: ["user:1", "user:1", "all"] });
    state.setSync("f|2", 2, null, { tags: ["all"] });
    await state.set("f|3", 3, null);
    expect(readdirSync(tagDirectory(state, "user:1"))).toEqual([markerOf("f|1")]);
    expect(readdirSync(tagDirectory(state, "all")).sort()).toEqual([markerOf("f|1"), markerOf("f|2")].sort());
    const marker = join(tagDirectory(state, "all"), markerOf("f|2"));
    expect(statSync(marker).size).toBe(0);
    expect(statSync(marker).mode & 0o777).toBe(0o600);
    expect(tagDirectories(state)).toHaveLength(2);
  });

  it("the entry carries its own tags, which invalidation checks", async () => {
    const state = newState();
    await state.set("f|1", "v", 60, { tags: ["b", "a|b", "\uD800"] });
    const bytes = readFileSync(state.entryFile("f|1"));
    const header = decodeHeader(bytes, bytes.length, encodeSerializerName("v8"), false, "f");
    expect(decodeTags(bytes, header, "f")).toEqual(["b", "a|b", "\uD800"]);
  });

  it("the sweep drops markers of entries overwritten without the tag, deleted or expired, then the empty tag directories", async () => {
    const state = newState();
    for (const key of ["f|kept", "f|rewritten", "f|deleted", "f|expired"]) {
      await state.set(key, key, key === "f|expired" ? 0.02 : null, { tags: ["t"] });
    }
    await state.set("f|other", 1, null, { tags: ["u"] });
    await state.set("f|rewritten", "plain", null);
    await state.delete("f|deleted");
    await state.set("f|other", "plain", null);
    await pause(40);
    const report = await state.sweep();
    expect(report).toMatchObject({ markers: 4, expired: 1 });
    expect(readdirSync(tagDirectory(state, "t"))).toEqual([markerOf("f|kept")]);
    expect(existsSync(tagDirectory(state, "u"))).toBe(false);
    await state.invalidateTags(["t"]);
    expect(await state.get("f|kept")).toBeUndefined();
    expect(await state.get("f|rewritten")).toEqual({ value: "plain" });
    expect(tagDirectories(state)).toEqual([]);
  });

  it("a marker taken aside by an invalidation that died is put back by a sweep, or taken up by the next invalidation", async () => {
    const state = newState();
    await state.set("f|a", "a", null, { tags: ["t"] });
    await state.set("f|b", "b", null, { tags: ["t"] });
    const directory = tagDirectory(state, "t");
    const pid = deadPid();
    // As a killed invalidation leaves it: the marker renamed to a claim, the entry not removed yet.
    const abandon = (key: string) => renameSync(join(directory, markerOf(key)), join(directory, `.${markerOf(key)}.${pid}.dead1.claim`));
    abandon("f|a");
    abandon("f|b");
    await state.sweep();
    expect(readdirSync(directory).sort()).toEqual([markerOf("f|a"), markerOf("f|b")].sort());
    abandon("f|a");
    await state.invalidateTags(["t"]);
    expect(await state.get("f|a")).toBeUndefined();
    expect(await state.get("f|b")).toBeUndefined();
    expect(existsSync(directory)).toBe(false);
  });

  it("an invalidation removes the entries whose markers a live process holds aside: it never resolves while they can be read", async () => {
    const state = newState();
    await state.set("f|a", "a", null, { tags: ["t"] });
    await state.set("f|b", "b", null, { tags: ["t"] });
    await state.set("f|c", "c", null, { tags: ["t", "u"] });
    const directory = tagDirectory(state, "t");
    // As another invalidation (or a sweep) still at work leaves them: markers renamed to its claims,
    // the entries not removed yet. A claim of this process's pid is a live one.
    const holdAside = (key: string) =>
      renameSync(join(directory, markerOf(key)), join(directory, `.${markerOf(key)}.${process.pid}.busy1.claim`));
    holdAside("f|a");
    holdAside("f|c");
    await state.invalidateTags(["t"]);
    expect(await state.get("f|a")).toBeUndefined();
    expect(await state.get("f|b")).toBeUndefined();
    expect(await state.get("f|c")).toBeUndefined();
    // The holder's claims are its own to settle; once abandoned, a sweep finds nothing to put back.
    expect(readdirSync(directory).filter((name) => name.endsWith(".claim"))).toHaveLength(2);
  });

  it.each(["set", "setSync"])("a tag that cannot be recorded fails the write (%s) and leaves no entry carrying it", async (method) => {
    const state = newState();
    writeFileSync(tagDirectory(state, "blocked"), "a file where the tag directory should be");
    const write =
      method === "set"
        ? state.set("f|1", 1, null, { tags: ["blocked"] })
        : Promise.resolve().then(() => state.setSync("f|1", 1, null, { tags: ["blocked"] }));
    const error = await write.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(FileSystemStateError);
    expect((error as FileSystemStateError).systemCode).toBe("ENOTDIR");
    expect((error as Error).message).toMatch(/record tag "blocked"/);
    expect(existsSync(state.entryFile("f|1"))).toBe(false);
  });

  it("rejects tags that are not an array of strings", async () => {
    const state = newState();
    await expect(state.set("f|1", 1, null, { tags: "t" as unknown as string[] })).rejects.toThrow(/tags must be an array of strings, got "t"/);
    await expect(state.invalidateTags([1] as unknown as string[])).rejects.toThrow(/tags must be an array of strings/);
  });
});

describe("tags through Mime on a static directory", () => {
  // Mime.invalidateTags reaches every state tagged functions have used in this process, including
  // those of earlier tests; core does not skip a closed one (see the package's report), so these
  // stay open until the block ends.
  const open: TempFileState[] = [];
  afterAll(async () => {
    await Promise.all(open.map((state) => state.close()));
  });

  it.each(["sync", "async"])("a tag shared by two functions removes both (%s functions); other tags stay", async (kind) => {
    const state = new TempFileState({ basePath: testDirectory(), static: true });
    open.push(state);
    const calls: string[] = [];
    const options = (name: string) => ({ ttl: 60, state, name: `${name}-${kind}`, tags: (userId: number) => [`user:${userId}`] });
    const profile =
      kind === "sync"
        ? Mime(options("profile"))((userId: number) => (calls.push(`profile ${userId}`), { userId }))
        : Mime(options("profile"))(async (userId: number) => (calls.push(`profile ${userId}`), { userId }));
    const orders =
      kind === "sync"
        ? Mime(options("orders"))((userId: number) => (calls.push(`orders ${userId}`), [userId]))
        : Mime(options("orders"))(async (userId: number) => (calls.push(`orders ${userId}`), [userId]));
    for (const userId of [42, 7, 42, 7]) {
      await profile(userId);
      await orders(userId);
    }
    expect(calls).toEqual(["profile 42", "orders 42", "profile 7", "orders 7"]);
    await Mime.invalidateTags(["user:42"]);
    for (const userId of [42, 7]) {
      await profile(userId);
      await orders(userId);
    }
    expect(calls.slice(4)).toEqual(["profile 42", "orders 42"]);
  });

  it("an invalidation made by another process is seen", async () => {
    const basePath = testDirectory();
    const state = newState(basePath);
    let calls = 0;
    const find = Mime({ ttl: 60, state, name: "find", tags: (userId: number) => [`user:${userId}`] })(async (userId: number) => {
      calls++;
      return { userId };
    });
    await find(42);
    await find(43);
    const result = await runChild("invalidate.mjs", [basePath, JSON.stringify(["user:42"])]);
    expect(lastJson(result)).toEqual({ invalidated: ["user:42"] });
    await find(42);
    await find(43);
    expect(calls).toBe(3);
  });

  it("a function with tags on a state that cannot tag is a clear error at decoration time", () => {
    const state = { get: async () => undefined, set: async () => undefined, delete: async () => undefined, clear: async () => undefined };
    expect(() => Mime({ state, tags: () => ["t"] })(async () => 1)).toThrow(/cannot tag entries/);
  });
});

interface TaggerOutput {
  writes: number;
  tagged: number;
  invalidations: number;
  reads: number;
  hits: number;
  wrong: number;
  exceptions: number;
  exceptionMessages: string[];
  backgroundErrors: string[];
}

it("four processes tagging, rewriting, deleting, invalidating and sweeping the same keys: no exception, and no tagged entry escapes its tag", async () => {
  const basePath = testDirectory();
  const outputs = await Promise.all(
    [0, 1, 2, 3].map(async (n) => lastJson<TaggerOutput>(await runChild("tagger.mjs", [basePath, "2500", String(n)]))),
  );
  for (const output of outputs) {
    expect(output).toMatchObject({ wrong: 0, exceptions: 0, exceptionMessages: [], backgroundErrors: [] });
    expect(output.tagged).toBeGreaterThan(0);
    expect(output.invalidations).toBeGreaterThan(0);
    expect(output.hits).toBeGreaterThan(0);
  }
  const state = newState(basePath);
  await state.invalidateTags(["a", "b"]);
  // Whatever the interleaving, every entry that carried a tag had a marker: none carries one now.
  const v8 = encodeSerializerName("v8");
  const stillTagged: string[] = [];
  for (const file of entryFiles(state.directory).filter((name) => name.startsWith("n2-"))) {
    const bytes = readFileSync(join(state.directory, file));
    const header = decodeHeader(bytes, bytes.length, v8, false, file);
    if (header.expiresAt > Date.now() && decodeTags(bytes, header, file).length > 0) stillTagged.push(file);
  }
  expect(stillTagged).toEqual([]);
  await state.sweep();
  expect(tagDirectories(state)).toEqual([]);
  expect(filesUnder(state.directory).filter((name) => name.endsWith(".claim") || name.endsWith(".tmp"))).toEqual([]);
});
