import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CorruptEntryError, Mime, type MimicError } from "@mimic/core";
import { FileSystemStateError, TempFileState } from "../src";
import { entryFiles, removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

function newState(isStatic = false): TempFileState {
  const state = new TempFileState({ basePath: testDirectory(), static: isStatic });
  states.push(state);
  return state;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe.each([false, true])("Mime on a TempFileState (static: %s)", (isStatic) => {
  it("a sync function stays sync: hit, then a new call after the ttl", async () => {
    const state = newState(isStatic);
    let calls = 0;
    const add = Mime({ ttl: 0.05, state, name: `add${isStatic}` })(function add(a: number, b: number) {
      calls++;
      return a + b;
    });
    expect(add(1, 2)).toBe(3);
    expect(add(1, 2)).toBe(3);
    expect(calls).toBe(1);
    expect(entryFiles(state.directory)).toHaveLength(1);
    await pause(80);
    expect(add(1, 2)).toBe(3);
    expect(calls).toBe(2);
  });

  it("an async function stays async and caches falsy results", async () => {
    const state = newState(isStatic);
    let calls = 0;
    const find = Mime({ ttl: 60, state, name: `find${isStatic}` })(async function find(id: number) {
      calls++;
      return id === 0 ? undefined : { id };
    });
    expect(await find(0)).toBeUndefined();
    expect(await find(0)).toBeUndefined();
    expect(await find(1)).toEqual({ id: 1 });
    expect(await find(1)).toEqual({ id: 1 });
    expect(calls).toBe(2);
  });
});

describe("Mime fails open on a TempFileState", () => {
  it.each(["sync", "async"])("a corrupt entry (%s): the function runs, the error is reported, the entry is rewritten", async (kind) => {
    const state = newState();
    const errors: MimicError[] = [];
    let calls = 0;
    const body = (n: number) => {
      calls++;
      return n * 2;
    };
    const onError = (error: MimicError) => errors.push(error);
    const twice =
      kind === "sync"
        ? Mime({ state, onError })(function twice(n: number) {
            return body(n);
          })
        : Mime({ state, onError })(async function twice(n: number) {
            return body(n);
          });
    expect(await twice(21)).toBe(42);
    const [file] = entryFiles(state.directory);
    writeFileSync(join(state.directory, file as string), "not an entry at all");
    expect(await twice(21)).toBe(42);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CorruptEntryError);
    expect(await twice(21)).toBe(42);
    expect(calls).toBe(2);
  });

  it.each(["sync", "async"])("a directory that cannot be written (%s): results are returned, errors reported", async (kind) => {
    const state = newState();
    const errors: MimicError[] = [];
    let calls = 0;
    const onError = (error: MimicError) => errors.push(error);
    const square =
      kind === "sync"
        ? Mime({ state, onError })(function square(n: number) {
            calls++;
            return n * n;
          })
        : Mime({ state, onError })(async function square(n: number) {
            calls++;
            return n * n;
          });
    // The function's namespace directory is a regular file: each read and write fails with ENOTDIR, for real.
    writeFileSync(dirname(dirname(state.entryFile(square.key(3)))), "");
    expect(await square(3)).toBe(9);
    expect(await square(3)).toBe(9);
    expect(calls).toBe(2);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const error of errors) {
      expect(error).toBeInstanceOf(FileSystemStateError);
      expect((error as FileSystemStateError).systemCode).toBe("ENOTDIR");
    }
  });

  it("strict: true propagates the state's error", async () => {
    const state = newState();
    const square = Mime({ state, strict: true })(async function square(n: number) {
      return n * n;
    });
    writeFileSync(dirname(dirname(state.entryFile(square.key(3)))), "");
    await expect(square(3)).rejects.toThrow(FileSystemStateError);
  });
});
