import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { StateError, digestKey, type CacheEntry } from "@mimic/core";
import { FileSystemStateError, TempFileState } from "../src";
import { entryFiles, removeTestDirectories, tempFiles, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

// Real write failures only. chmod does not stop root, so as root a read-only file system is a tmpfs
// remounted read-only, and a full disk is a tiny tmpfs; both need mount(8), probed here once. Where
// neither chmod nor mount can provoke them (root without CAP_SYS_ADMIN), the ENOTDIR cases remain.
const isRoot = process.getuid?.() === 0;
const canMountTmpfs = ((): boolean => {
  const probe = testDirectory();
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
  if (mounted.status !== 0) return false;
  spawnSync("umount", [probe], { stdio: "ignore" });
  return true;
})();

function mountTmpfs(sizeKb: number): string {
  const mountPoint = join(testDirectory(), "mnt");
  mkdirSync(mountPoint);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0700`, "tmpfs", mountPoint]);
  return mountPoint;
}

function unmount(mountPoint: string): void {
  execFileSync("umount", [mountPoint]);
}

type Write = (state: TempFileState, key: string, value: unknown) => Promise<void>;
type Read = (state: TempFileState, key: string) => Promise<CacheEntry | undefined>;
const apis: Array<[string, Write, Read]> = [
  ["async", (state, key, value) => state.set(key, value, null), (state, key) => state.get(key)],
  ["sync", async (state, key, value) => state.setSync(key, value, null), async (state, key) => state.getSync(key)],
];

async function expectFailure(write: Promise<void>, systemCodes: string[]): Promise<FileSystemStateError> {
  const error = await write.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FileSystemStateError);
  expect(error).toBeInstanceOf(StateError);
  const failure = error as FileSystemStateError;
  expect(failure.code).toBe("MIMIC_STATE_IO");
  expect(systemCodes).toContain(failure.systemCode);
  expect(failure.message).toContain(failure.path);
  expect(failure.message).toContain(failure.systemCode);
  return failure;
}

describe.each(apis)("write failures (%s API)", (_, write, read) => {
  it("a path component that is a regular file (ENOTDIR): typed error, no partial entry", async () => {
    const state = new TempFileState({ basePath: testDirectory() });
    await write(state, "f|ok", "stored before");
    const digest = digestKey("f|blocked");
    writeFileSync(dirname(state.entryFile("f|blocked")), "a file where the shard directory should be");
    const failure = await expectFailure(write(state, "f|blocked", "value"), ["ENOTDIR"]);
    expect(failure.path).toContain(digest);
    expect(tempFiles(state.directory)).toEqual([]);
    expect(await read(state, "f|ok")).toEqual({ value: "stored before" });
    await state.close();
  });

  it("a basePath that cannot be created: typed error naming it", async () => {
    const blocker = join(testDirectory(), "file");
    writeFileSync(blocker, "");
    const state = new TempFileState({ basePath: join(blocker, "cache") });
    const failure = await expectFailure(write(state, "f|1", 1), ["ENOTDIR"]);
    expect(failure.path).toBe(join(blocker, "cache"));
  });

  if (!isRoot) {
    it("a read-only directory (chmod 0500, EACCES): typed error, no partial entry, reads still work", async () => {
      const state = new TempFileState({ basePath: testDirectory() });
      await write(state, "f|before", "kept");
      const shard = dirname(state.entryFile("f|new"));
      const readOnly = [shard, dirname(shard), state.directory];
      mkdirSync(shard, { recursive: true });
      for (const directory of readOnly) chmodSync(directory, 0o500);
      try {
        await expectFailure(write(state, "f|new", "value"), ["EACCES", "EPERM"]);
        expect(tempFiles(state.directory)).toEqual([]);
        expect(await read(state, "f|before")).toEqual({ value: "kept" });
      } finally {
        for (const directory of readOnly) chmodSync(directory, 0o700);
      }
      await state.close();
    });
  }

  if (canMountTmpfs) {
    it("a read-only file system (tmpfs remounted ro, EROFS): typed error, no partial entry, reads still work", async () => {
      const mountPoint = mountTmpfs(1024);
      try {
        const state = new TempFileState({ basePath: mountPoint, static: true });
        await write(state, "f|before", "kept");
        execFileSync("mount", ["-o", "remount,ro", mountPoint]);
        await expectFailure(write(state, "f|new", "value"), ["EROFS"]);
        await expectFailure(write(state, "f|before", "replacement"), ["EROFS"]);
        expect(tempFiles(state.directory)).toEqual([]);
        expect(await read(state, "f|before")).toEqual({ value: "kept" });
        expect(await read(state, "f|new")).toBeUndefined();
        await state.close();
      } finally {
        unmount(mountPoint);
      }
    });

    it("a full disk (64 KiB tmpfs, ENOSPC): typed error, the temp file is cleaned up, no partial entry", async () => {
      const mountPoint = mountTmpfs(64);
      try {
        const state = new TempFileState({ basePath: mountPoint, static: true });
        await write(state, "f|small", "fits");
        await expectFailure(write(state, "f|big", "x".repeat(200 * 1024)), ["ENOSPC"]);
        expect(tempFiles(state.directory)).toEqual([]);
        expect(entryFiles(state.directory)).toHaveLength(1);
        expect(await read(state, "f|big")).toBeUndefined();
        expect(await read(state, "f|small")).toEqual({ value: "fits" });
        await write(state, "f|after", "space was given back");
        expect(await read(state, "f|after")).toEqual({ value: "space was given back" });
        await state.close();
      } finally {
        unmount(mountPoint);
      }
    });
  }
});

