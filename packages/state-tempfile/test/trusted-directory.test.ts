import { spawn } from "node:child_process";
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Mime, StateError, type MimicError } from "@mimic/core";
import { TempFileState, UnsafeDirectoryError } from "../src";
import { filesUnder, removeTestDirectories, testDirectory, waitForExit } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close().catch(() => undefined)));
});

function track(state: TempFileState): TempFileState {
  states.push(state);
  return state;
}

// Real users: the tests run as root, which can give directories to `nobody` and start processes as
// `nobody`. Without root, no second user is at hand, and these cases are not registered.
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** Gives `path` and everything under it to `nobody`. */
function giveToNobody(path: string): void {
  chownSync(path, NOBODY, NOBODY);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) giveToNobody(join(path, name));
}

/** A directory that `nobody` can traverse (testDirectory() makes 0700 ones). */
function outerDirectory(): string {
  const outer = testDirectory();
  chmodSync(outer, 0o711);
  return outer;
}

/**
 * A static cache directory holding `value` under `key`, owned by `nobody`: what an attacker who is
 * `nobody` can build for themself.
 */
function forgedDirectory(outer: string, key: string, value: unknown): string {
  const forgeBase = join(outer, "forge");
  const forger = new TempFileState({ basePath: forgeBase, static: true });
  forger.setSync(key, value, null);
  const { directory } = forger;
  void forger.close();
  giveToNobody(forgeBase);
  return directory;
}

/** Runs `script` (CommonJS, `args` in `process.argv.slice(1)`) in a process of its own as `nobody`. */
async function runAsNobody(script: string, args: readonly string[]): Promise<void> {
  const child = spawn(process.execPath, ["-e", script, ...args], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result = await waitForExit(child);
  if (result.code !== 0) throw new Error(`the attacker process failed (${result.code ?? result.signal}): ${result.stderr}`);
}

// Moves the victim's cache directory aside and puts a symbolic link to the attacker's own in its place.
const SWAP_IN_SYMLINK = `
const fs = require("node:fs");
const [directory, aside, forged] = process.argv.slice(1);
fs.renameSync(directory, aside);
fs.symlinkSync(forged, directory);
`;

// Moves the victim's cache directory aside and moves the attacker's own directory into its place.
const SWAP_IN_DIRECTORY = `
const fs = require("node:fs");
const [directory, aside, forged] = process.argv.slice(1);
fs.renameSync(directory, aside);
fs.renameSync(forged, directory);
`;

function expectUnsafe(error: unknown, path: string, pattern: RegExp): void {
  expect(error).toBeInstanceOf(UnsafeDirectoryError);
  expect(error).toBeInstanceOf(StateError);
  const unsafe = error as UnsafeDirectoryError;
  expect(unsafe.code).toBe("MIMIC_STATE_UNSAFE_DIRECTORY");
  expect(unsafe.path).toBe(path);
  expect(unsafe.message).toContain(path);
  expect(unsafe.message).toMatch(pattern);
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

describe.each([false, true])("the basePath (static: %s)", (isStatic) => {
  it("writable by others without the sticky bit is refused, naming it, its mode and what to do", async () => {
    const basePath = join(testDirectory(), "base");
    mkdirSync(basePath);
    chmodSync(basePath, 0o777);
    const state = track(new TempFileState({ basePath, static: isStatic }));
    const error = caught(() => state.getSync("f|1"));
    expectUnsafe(error, basePath, /writable by group or others \(mode 777\) without the sticky bit/);
    expect((error as Error).message).toMatch(/chmod/);
    await expect(state.set("f|1", 1, null)).rejects.toThrow(UnsafeDirectoryError);
  });

  it("writable by others with the sticky bit (like /tmp) is accepted", async () => {
    const basePath = join(testDirectory(), "base");
    mkdirSync(basePath);
    chmodSync(basePath, 0o1777);
    const state = track(new TempFileState({ basePath, static: isStatic }));
    await state.set("f|1", "kept", null);
    expect(state.getSync("f|1")).toEqual({ value: "kept" });
  });

  if (isRoot) {
    it("owned by another non-root user is refused, naming it, the owner's uid and what to do", () => {
      const basePath = join(testDirectory(), "base");
      mkdirSync(basePath, { mode: 0o700 });
      chownSync(basePath, NOBODY, NOBODY);
      const state = track(new TempFileState({ basePath, static: isStatic }));
      const error = caught(() => state.getSync("f|1"));
      expectUnsafe(error, basePath, new RegExp(`belongs to uid ${NOBODY}`));
      expect((error as UnsafeDirectoryError).ownerUid).toBe(NOBODY);
      expect((error as Error).message).toMatch(/basePath that only this user or root can write/);
    });
  }
});

if (isRoot) {
  describe("a cache directory swapped by another user while the state runs", () => {
    const KEY = "user|42";

    /** A running static state with a genuine entry, whose basePath `nobody` then comes to control. */
    async function runningState(): Promise<{ state: TempFileState; outer: string; directory: string }> {
      const outer = outerDirectory();
      const basePath = join(outer, "base");
      const state = track(new TempFileState({ basePath, static: true }));
      await state.set(KEY, "genuine", null);
      expect(state.getSync(KEY)).toEqual({ value: "genuine" });
      chownSync(basePath, NOBODY, NOBODY);
      return { state, outer, directory: state.directory };
    }

    it.each([
      ["a symbolic link to the attacker's directory", SWAP_IN_SYMLINK, /symbolic link/],
      ["the attacker's own directory", SWAP_IN_DIRECTORY, new RegExp(`belongs to uid ${NOBODY}`)],
    ])("replaced by %s: the forged entry is never served, reads and writes are refused", async (_, script, pattern) => {
      const { state, outer, directory } = await runningState();
      const forged = forgedDirectory(outer, KEY, "forged");
      const planted = filesUnder(forged);
      await runAsNobody(script, [directory, join(outer, "base", "aside"), forged]);

      expectUnsafe(caught(() => state.getSync(KEY)), directory, pattern);
      expectUnsafe(await state.get(KEY).catch((error: unknown) => error), directory, pattern);
      expect(caught(() => state.setSync(KEY, "mine", null))).toBeInstanceOf(UnsafeDirectoryError);
      await expect(state.set(KEY, "mine", null)).rejects.toThrow(UnsafeDirectoryError);
      await expect(state.sweep()).rejects.toThrow(UnsafeDirectoryError);
      // Nothing of this process went into the attacker's directory.
      expect(filesUnder(directory)).toEqual(planted);
    });

    it.each(["sync", "async"])("a memoized %s function runs, returns its own result and reports the refusal", async (kind) => {
      const { state, outer, directory } = await runningState();
      const errors: MimicError[] = [];
      let calls = 0;
      const load = (id: number): string => {
        calls++;
        return `computed ${id}`;
      };
      const onError = (error: MimicError): void => void errors.push(error);
      const options = { state, name: `loadUser-${kind}`, ttl: 60, onError };
      const memoized =
        kind === "sync" ? Mime(options)(load) : Mime(options)(async (id: number) => load(id));
      await memoized(7);
      const forged = forgedDirectory(outer, memoized.key(7), "forged");
      await runAsNobody(SWAP_IN_SYMLINK, [directory, join(outer, "base", "aside"), forged]);
      expect(await memoized(7)).toBe("computed 7");
      expect(calls).toBe(2);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toBeInstanceOf(UnsafeDirectoryError);
    });
  });

  it("an entry file owned by another user is refused, not deserialized", async () => {
    const state = track(new TempFileState({ basePath: testDirectory(), static: true }));
    await state.set("f|1", "genuine", null);
    const file = state.entryFile("f|1");
    chownSync(file, NOBODY, NOBODY);
    expectUnsafe(caught(() => state.getSync("f|1")), file, new RegExp(`belongs to uid ${NOBODY}`));
    await expect(state.get("f|1")).rejects.toThrow(UnsafeDirectoryError);
  });
}

it("an entry file that is a symbolic link is refused, not followed", async () => {
  const state = track(new TempFileState({ basePath: testDirectory(), static: true }));
  await state.set("f|1", "genuine", null);
  await state.set("f|2", "other", null);
  const file = state.entryFile("f|1");
  rmSync(file);
  symlinkSync(state.entryFile("f|2"), file);
  expectUnsafe(caught(() => state.getSync("f|1")), file, /symbolic link/);
  await expect(state.get("f|1")).rejects.toThrow(UnsafeDirectoryError);
});

it("a cache directory removed by its own user is made again and trusted", async () => {
  const state = track(new TempFileState({ basePath: testDirectory(), static: true }));
  await state.set("f|1", "before", null);
  rmSync(state.directory, { recursive: true });
  expect(state.getSync("f|1")).toBeUndefined();
  await state.set("f|1", "after", null);
  expect(state.getSync("f|1")).toEqual({ value: "after" });
  expect(await state.get("f|1")).toEqual({ value: "after" });
});
