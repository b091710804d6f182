import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  InvalidOptionError,
  StateClosedError,
  StateError,
  digestKey,
  jsonSerializer,
  type CacheEntry,
} from "@mimic/core";
import { FORMAT_VERSION, TempFileState, type TempFileStateOptions } from "../src";
import { FIXED_HEADER_SIZE } from "../src/format";
import { namespaceOf } from "../src/paths";
import { entryFiles, removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

function newState(options: TempFileStateOptions = {}): TempFileState {
  const state = new TempFileState({ basePath: testDirectory(), ...options });
  states.push(state);
  return state;
}

/** The same operations, once through the async API and once through the sync one. */
const modes = {
  async: {
    get: (state: TempFileState, key: string) => state.get(key),
    set: (state: TempFileState, key: string, value: unknown, ttl: number | null) => state.set(key, value, ttl),
    delete: (state: TempFileState, key: string) => state.delete(key),
    clear: (state: TempFileState) => state.clear(),
  },
  sync: {
    get: async (state: TempFileState, key: string): Promise<CacheEntry | undefined> => state.getSync(key),
    set: async (state: TempFileState, key: string, value: unknown, ttl: number | null) => state.setSync(key, value, ttl),
    delete: async (state: TempFileState, key: string) => state.deleteSync(key),
    clear: async (state: TempFileState) => state.clearSync(),
  },
};

describe.each(Object.entries(modes))("TempFileState, %s operations", (_, ops) => {
  it("tells a miss from a cached undefined", async () => {
    const state = newState();
    expect(await ops.get(state, "f|1")).toBeUndefined();
    await ops.set(state, "f|1", undefined, null);
    expect(await ops.get(state, "f|1")).toEqual({ value: undefined });
  });

  it("keeps structured-clone values", async () => {
    const state = newState();
    const value = { date: new Date(5), map: new Map([[1, new Set(["a"])]]), big: 10n ** 20n, bytes: new Uint8Array([1, 2]) };
    await ops.set(state, "f|v", value, 60);
    expect((await ops.get(state, "f|v"))?.value).toEqual(value);
  });

  it("writes one file per key, named by the key's SHA-256, in its namespace's directory and a two-hex-digit shard", async () => {
    const state = newState();
    await ops.set(state, "f|a", 1, null);
    await ops.set(state, "f|b", 2, null);
    await ops.set(state, "f|a", 3, null);
    await ops.set(state, "g|a", 4, null);
    const file = (key: string) => `n2-${digestKey(namespaceOf(key)).slice(0, 32)}/${digestKey(key).slice(0, 2)}/${digestKey(key)}`;
    expect(entryFiles(state.directory)).toEqual([file("f|a"), file("f|b"), file("g|a")].sort());
    expect(state.entryFile("f|a")).toBe(join(state.directory, file("f|a")));
    const bytes = readFileSync(state.entryFile("f|a"));
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("MIMF");
    expect(bytes[4]).toBe(FORMAT_VERSION);
    expect(bytes.subarray(FIXED_HEADER_SIZE, FIXED_HEADER_SIZE + 2).toString()).toBe("v8");
    expect(bytes.toString("utf16le", FIXED_HEADER_SIZE + 2, FIXED_HEADER_SIZE + 2 + 6)).toBe("f|a");
    expect((await ops.get(state, "f|a"))?.value).toBe(3);
  });

  it("deletes an expired entry's file when it is read", async () => {
    const state = newState();
    await ops.set(state, "f|t", "soon gone", 0.02);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(entryFiles(state.directory)).toHaveLength(1);
    expect(await ops.get(state, "f|t")).toBeUndefined();
    expect(entryFiles(state.directory)).toHaveLength(0);
  });

  it("delete removes one entry; deleting a missing key is fine", async () => {
    const state = newState();
    await ops.set(state, "f|1", 1, null);
    await ops.set(state, "f|2", 2, null);
    await ops.delete(state, "f|1");
    await ops.delete(state, "f|never");
    expect(await ops.get(state, "f|1")).toBeUndefined();
    expect((await ops.get(state, "f|2"))?.value).toBe(2);
  });

  it("clear empties this state's directory and no other", async () => {
    const basePath = testDirectory();
    const mine = new TempFileState({ basePath });
    const other = new TempFileState({ basePath });
    states.push(mine, other);
    await ops.set(mine, "f|1", 1, null);
    await ops.set(other, "f|1", "other", null);
    await ops.clear(mine);
    expect(await ops.get(mine, "f|1")).toBeUndefined();
    expect(await ops.get(other, "f|1")).toEqual({ value: "other" });
    expect(existsSync(mine.directory)).toBe(true);
  });

  it("throws a StateError naming the type for a value the serializer cannot encode", async () => {
    const state = newState();
    await expect(ops.set(state, "f|fn", () => 1, null)).rejects.toThrow(StateError);
    await expect(ops.set(state, "f|fn", () => 1, null)).rejects.toThrow(/cannot encode a value of type function/);
    expect(entryFiles(state.directory)).toHaveLength(0);
  });

  it("works with fsync on", async () => {
    const state = newState({ fsync: true });
    await ops.set(state, "f|d", { durable: true }, null);
    expect(await ops.get(state, "f|d")).toEqual({ value: { durable: true } });
  });

  it("fails every operation after close with StateClosedError", async () => {
    const state = newState();
    await ops.set(state, "f|1", 1, null);
    await state.close();
    await expect(ops.get(state, "f|1")).rejects.toThrow(StateClosedError);
    await expect(ops.set(state, "f|1", 1, null)).rejects.toThrow(StateClosedError);
    await expect(ops.delete(state, "f|1")).rejects.toThrow(StateClosedError);
    await expect(ops.clear(state)).rejects.toThrow(StateClosedError);
  });
});

describe("TempFileState files and directories", () => {
  it("creates a missing basePath (0700) and its own directory with mode 0700, files with 0600", async () => {
    const basePath = join(testDirectory(), "deep", "er");
    const state = newState({ basePath });
    await state.set("f|1", 1, null);
    state.setSync("f|2", 2, null);
    expect(statSync(basePath).mode & 0o777).toBe(0o700);
    expect(statSync(state.directory).mode & 0o777).toBe(0o700);
    for (const file of entryFiles(state.directory)) {
      expect(statSync(join(state.directory, file)).mode & 0o777).toBe(0o600);
      expect(statSync(join(state.directory, file, "..")).mode & 0o777).toBe(0o700);
    }
  });

  it("is process-local unless static", () => {
    expect(newState().local).toBe(true);
    expect(newState({ static: true }).local).toBe(false);
  });

  it("does not touch the disk until first used", () => {
    const basePath = join(testDirectory(), "not-yet");
    newState({ basePath });
    expect(existsSync(basePath)).toBe(false);
  });

  it("uses the given serializer and treats another serializer's entries as corrupt misses", async () => {
    const basePath = testDirectory();
    const json = new TempFileState({ basePath, static: true, serializer: jsonSerializer });
    const v8 = new TempFileState({ basePath, static: true });
    states.push(json, v8);
    await json.set("f|1", { a: [1, "x"] }, null);
    expect(await json.get("f|1")).toEqual({ value: { a: [1, "x"] } });
    await expect(v8.get("f|1")).rejects.toThrow(/written by serializer "json"/);
    expect(await json.get("f|1")).toBeUndefined();
  });
});

describe("TempFileState options", () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ["an unknown option", { base: "/tmp" }, /unknown option "base"/],
    ["a non-string basePath", { basePath: 42 }, /"basePath" must be a non-empty path, got 42/],
    ["an empty basePath", { basePath: "" }, /"basePath" must be a non-empty path, got ""/],
    ["a non-boolean static", { static: "yes" }, /"static" must be a boolean, got "yes"/],
    ["a serializer without methods", { serializer: { name: "x" } }, /"serializer" must be a Serializer/],
    ["a fractional maxEntries", { maxEntries: 1.5 }, /"maxEntries" must be an integer >= 1, got 1.5/],
    ["a zero maxBytes", { maxBytes: 0 }, /"maxBytes" must be an integer >= 1, got 0/],
    ["a negative sweepEvery", { sweepEvery: -1 }, /"sweepEvery" must be an integer >= 0, got -1/],
    ["a NaN sweepInterval", { sweepInterval: NaN }, /"sweepInterval" must be a finite number of seconds >= 0, or null, got NaN/],
    ["a non-function onError", { onError: "log" }, /"onError" must be a function, got "log"/],
    ["a non-boolean fsync", { fsync: 1 }, /"fsync" must be a boolean, got 1/],
  ])("rejects %s with InvalidOptionError naming the value", (_, options, message) => {
    const construct = () => new TempFileState(options as TempFileStateOptions);
    expect(construct).toThrow(InvalidOptionError);
    expect(construct).toThrow(message);
  });

  it("names an unknown option, the nearest known one and all of them, in core's format", () => {
    expect(() => new TempFileState({ basepath: "/tmp" } as TempFileStateOptions)).toThrow(
      'TempFileState: unknown option "basepath" (did you mean "basePath"?); known options: basePath, static, serializer, ' +
        "fsync, maxEntries, maxBytes, sweepEvery, sweepInterval, onError, secret",
    );
  });

  it("refuses a serializer name longer than the header allows", () => {
    const serializer = { ...jsonSerializer, name: "n".repeat(300) };
    expect(() => new TempFileState({ serializer })).toThrow(InvalidOptionError);
    expect(() => new TempFileState({ serializer })).toThrow(/name is 1 to 255 bytes/);
  });

  it("rejects a bad ttl in set, naming it", async () => {
    const state = newState();
    await expect(state.set("f|1", 1, -1)).rejects.toThrow(/-1/);
    expect(() => state.setSync("f|1", 1, Number.NaN)).toThrow(/NaN/);
  });
});
