import { chmodSync, chownSync, existsSync, mkdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { StateError } from "@mimic/core";
import { TempFileState } from "../src";
import { lastJson, removeTestDirectories, runChild, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

describe("a private (non-static) directory", () => {
  it("is made with mkdtemp under basePath and removed by close()", async () => {
    const basePath = testDirectory();
    const state = new TempFileState({ basePath });
    await state.set("f|1", 1, null);
    expect(state.directory.startsWith(join(basePath, "mimic-"))).toBe(true);
    expect(existsSync(state.directory)).toBe(true);
    const { directory } = state;
    await state.close();
    await state.close();
    expect(existsSync(directory)).toBe(false);
    expect(existsSync(basePath)).toBe(true);
  });

  it("registers one exit listener for all states, and none once they are closed", async () => {
    const before = process.listenerCount("exit");
    const states = Array.from({ length: 5 }, () => new TempFileState({ basePath: testDirectory() }));
    for (const state of states) state.setSync("f|1", 1, null);
    expect(process.listenerCount("exit")).toBe(before + 1);
    await Promise.all(states.map((state) => state.close()));
    expect(process.listenerCount("exit")).toBe(before);
  });

  it.each(["natural", "process.exit", "throw"])("is removed when the process exits (%s)", async (ending) => {
    const basePath = testDirectory();
    const result = await runChild("exit.mjs", [basePath, ending]);
    const { directories, exitListeners } = lastJson<{ directories: string[]; exitListeners: number }>(result);
    expect(result.code).toBe(ending === "throw" ? 1 : 0);
    expect(exitListeners).toBe(1);
    expect(new Set(directories).size).toBe(3);
    for (const directory of directories) expect(existsSync(directory)).toBe(false);
  });
});

describe("a static directory", () => {
  it("is <basePath>/mimic-cache-<uid>, shared by instances, and kept by close()", async () => {
    const basePath = testDirectory();
    const a = new TempFileState({ basePath, static: true });
    const b = new TempFileState({ basePath, static: true });
    a.setSync("f|1", "from a", null);
    expect(a.directory).toBe(join(basePath, `mimic-cache-${process.getuid?.() ?? ""}`.replace(/-$/, "")));
    expect(b.getSync("f|1")).toEqual({ value: "from a" });
    await a.close();
    expect(existsSync(b.directory)).toBe(true);
    expect(b.getSync("f|1")).toEqual({ value: "from a" });
    await b.close();
  });

  it("survives the process that wrote it, with its entries", async () => {
    const basePath = testDirectory();
    const result = await runChild("exit.mjs", [basePath, "static", "2"]);
    const { directories } = lastJson<{ directories: string[] }>(result);
    expect(result.code).toBe(0);
    expect(existsSync(directories[0] as string)).toBe(true);
    const later = new TempFileState({ basePath, static: true });
    expect(later.getSync("exit|1")).toEqual({ value: { i: 1 } });
    expect(await later.get("exit|async")).toEqual({ value: "async" });
    await later.close();
  });

  const staticPath = (basePath: string) => new TempFileState({ basePath, static: true });

  it("tightens a directory readable by others to 0700", () => {
    const basePath = testDirectory();
    const state = staticPath(basePath);
    const { directory } = state;
    chmodSync(directory, 0o755);
    expect(staticPath(basePath).directory).toBe(directory);
    expect(statSync(directory).mode & 0o777).toBe(0o700);
  });

  // Only root can give a directory away, so the ownership case needs root (the tests here run as root).
  const spoilers: Array<[string, (directory: string) => void, RegExp]> = [
    ["writable by others", (directory) => chmodSync(directory, 0o777), /writable by group or others \(mode 777\)/],
  ];
  if (process.getuid?.() === 0) {
    spoilers.push(["owned by another user", (directory) => chownSync(directory, 4321, 4321), /belongs to uid 4321/]);
  }

  it.each(spoilers)("is refused when %s", (_, spoil, message) => {
    const basePath = testDirectory();
    const { directory } = staticPath(basePath);
    spoil(directory);
    const state = staticPath(basePath);
    expect(() => state.getSync("f|1")).toThrow(StateError);
    expect(() => state.getSync("f|1")).toThrow(message);
  });

  it("is refused when it is a symbolic link", async () => {
    const basePath = testDirectory();
    const elsewhere = join(testDirectory(), "elsewhere");
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(basePath, `mimic-cache-${process.getuid?.() ?? ""}`.replace(/-$/, "")));
    const state = staticPath(basePath);
    await expect(state.get("f|1")).rejects.toThrow(/is a symbolic link/);
  });
});

describe("a process that never calls close()", () => {
  it("ends by itself: sweep timers, sweeps, leases and exit cleanup keep nothing alive", async () => {
    const basePath = testDirectory();
    const result = await runChild("no-close.mjs", [basePath]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const { results, directories, leased } = lastJson<{ results: number[]; directories: [string, string]; leased: boolean }>(result);
    expect(results).toEqual([0, 0, 0, 0, 1, 1, 2, 2, 4, 4, 4, 4, 9, 9, 6, 6, 16, 16, 8, 8, 1]);
    expect(leased).toBe(true);
    expect(existsSync(directories[0])).toBe(true); // static: kept
    expect(existsSync(directories[1])).toBe(false); // private: removed at exit
  });
});
