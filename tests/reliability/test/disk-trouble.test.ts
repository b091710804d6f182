import { execFileSync, spawnSync } from "node:child_process";
// The module object itself (not a namespace copy), so that the fallback can wrap its functions.
import fs from "node:fs";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Mime, type MimicError } from "@mimic/core";
import { FileSystemStateError, TempFileState } from "@mimic/state-tempfile";
import { recordFigures } from "./support/figures";

// Item 4 of the reliability issue: a read-only directory and a full disk under memoized calls.
//
// The tests run as root here, and chmod does not stop root from writing, so both faults are real
// file systems: a small tmpfs remounted read-only (EROFS), and a 64 KiB tmpfs that fills up (ENOSPC).
// Mounting needs CAP_SYS_ADMIN. Where mount is refused, the same scenarios run on a plain directory:
// read-only by chmod when not root (EACCES), otherwise, and for the full disk, through a failing fs
// wrapper that answers EROFS / ENOSPC like the kernel would (the fallback). Set
// MIMIC_RELIABILITY_NO_MOUNT=1 to run that fallback on a machine that could mount.

const directories: string[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const mountPoint of mounts.splice(0)) spawnSync("umount", [mountPoint], { stdio: "ignore" });
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
afterEach(() => jest.restoreAllMocks());

function testDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), "mimic-reliability-disk-"));
  directories.push(directory);
  return directory;
}

const isRoot = process.getuid?.() === 0;
const canMount =
  process.env.MIMIC_RELIABILITY_NO_MOUNT !== "1" &&
  ((): boolean => {
    const probe = testDirectory();
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" }).status !== 0) return false;
    spawnSync("umount", [probe], { stdio: "ignore" });
    return true;
  })();

function mountTmpfs(sizeKb: number): string {
  const mountPoint = path.join(testDirectory(), "mnt");
  mkdirSync(mountPoint);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0700`, "tmpfs", mountPoint]);
  mounts.push(mountPoint);
  return mountPoint;
}

function unmount(mountPoint: string): void {
  execFileSync("umount", [mountPoint]);
  mounts.splice(mounts.indexOf(mountPoint), 1);
}

/** A system error as the kernel reports it. */
function systemError(code: string, syscall: string, target: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected, ${syscall} '${target}'`), { code, syscall, path: target });
}

/** A disk with a fault to turn on, and what the state reports once it is on. */
interface Disk {
  readonly basePath: string;
  readonly kind: string;
  readonly expectedCode: string;
  /** Turns the fault on (`state` has written its first entries). */
  fail(state: TempFileState): Promise<void>;
  dispose(): void;
}

/** The FileHandle prototype, whose writes the fallback wraps. */
async function fileHandlePrototype(): Promise<{ writev: (...a: never[]) => unknown; write: (...a: never[]) => unknown }> {
  const file = path.join(testDirectory(), "probe");
  const handle = await fs.promises.open(file, "w");
  await handle.close();
  return Object.getPrototypeOf(handle) as { writev: (...a: never[]) => unknown; write: (...a: never[]) => unknown };
}

function readOnlyDisk(): Disk {
  if (canMount) {
    const mountPoint = mountTmpfs(1024);
    return {
      basePath: mountPoint,
      kind: "tmpfs remounted read-only",
      expectedCode: "EROFS",
      fail: async () => void execFileSync("mount", ["-o", "remount,ro", mountPoint]),
      dispose: () => unmount(mountPoint),
    };
  }
  const basePath = testDirectory();
  if (!isRoot) {
    const modes: Array<[string, number]> = [];
    return {
      basePath,
      kind: "directory chmod 0500",
      expectedCode: "EACCES",
      async fail(state) {
        for (const name of ["", ...readdirSync(state.directory)]) {
          const directory = path.join(state.directory, name);
          modes.push([directory, statSync(directory).mode]);
          fs.chmodSync(directory, 0o500);
        }
      },
      dispose: () => modes.forEach(([directory, mode]) => fs.chmodSync(directory, mode)),
    };
  }
  return {
    basePath,
    kind: "injected EROFS (failing fs wrapper)",
    expectedCode: "EROFS",
    async fail(state) {
      const under = (target: unknown): boolean => String(target).startsWith(state.directory);
      const { openSync, mkdirSync: mkdirSyncOriginal } = fs;
      const { open, mkdir } = fs.promises;
      // Creating files and directories fails; reading existing entries still works, as on a ro mount.
      jest.spyOn(fs, "openSync").mockImplementation((target, flags, mode) => {
        if (under(target) && flags !== "r" && flags !== undefined) throw systemError("EROFS", "open", String(target));
        return openSync(target, flags, mode);
      });
      jest.spyOn(fs, "mkdirSync").mockImplementation(((target: fs.PathLike, options?: fs.MakeDirectoryOptions) => {
        if (under(target)) throw systemError("EROFS", "mkdir", String(target));
        return mkdirSyncOriginal(target, options);
      }) as typeof fs.mkdirSync);
      jest.spyOn(fs.promises, "open").mockImplementation(async (target, flags, mode) => {
        if (under(target) && flags !== "r" && flags !== undefined) throw systemError("EROFS", "open", String(target));
        return open(target, flags, mode);
      });
      jest.spyOn(fs.promises, "mkdir").mockImplementation((async (target: fs.PathLike, options?: fs.MakeDirectoryOptions) => {
        if (under(target)) throw systemError("EROFS", "mkdir", String(target));
        return mkdir(target, options);
      }) as typeof fs.promises.mkdir);
    },
    dispose: () => undefined,
  };
}

function smallDisk(sizeKb: number): Disk {
  if (canMount) {
    const mountPoint = mountTmpfs(sizeKb);
    return { basePath: mountPoint, kind: `${sizeKb} KiB tmpfs`, expectedCode: "ENOSPC", fail: async () => undefined, dispose: () => unmount(mountPoint) };
  }
  return {
    basePath: testDirectory(),
    kind: `injected ENOSPC past ${sizeKb} KiB (failing fs wrapper)`,
    expectedCode: "ENOSPC",
    async fail() {
      // Every write that would take the bytes written past the quota fails, like a full disk.
      let free = sizeKb * 1024;
      const take = (bytes: number): void => {
        if (bytes > free) throw systemError("ENOSPC", "write", "fd");
        free -= bytes;
      };
      const size = (buffers: readonly NodeJS.ArrayBufferView[]): number => buffers.reduce((n, b) => n + b.byteLength, 0);
      const { writevSync, writeSync } = fs;
      jest.spyOn(fs, "writevSync").mockImplementation((fd, buffers, position) => {
        take(size(buffers));
        return writevSync(fd, buffers, position);
      });
      jest.spyOn(fs, "writeSync").mockImplementation(((fd: number, buffer: NodeJS.ArrayBufferView, ...rest: never[]) => {
        take(typeof rest[1] === "number" ? rest[1] : buffer.byteLength);
        return (writeSync as (...args: unknown[]) => number)(fd, buffer, ...rest);
      }) as typeof fs.writeSync);
      const proto = await fileHandlePrototype();
      const { writev, write } = proto;
      jest.spyOn(proto, "writev").mockImplementation(async function (this: unknown, ...args: never[]) {
        take(size(args[0] as unknown as NodeJS.ArrayBufferView[]));
        return writev.apply(this, args);
      });
      jest.spyOn(proto, "write").mockImplementation(async function (this: unknown, ...args: never[]) {
        const buffer = args[0] as unknown as NodeJS.ArrayBufferView;
        take(typeof args[2] === "number" ? (args[2] as number) : buffer.byteLength);
        return write.apply(this, args);
      });
    },
    dispose: () => undefined,
  };
}

/** Every file under `directory`, split into entries and temporary files. */
function files(directory: string): { entries: string[]; temp: string[] } {
  const all = (readdirSync(directory, { recursive: true }) as string[]).filter((name) => statSync(path.join(directory, name)).isFile());
  return { entries: all.filter((name) => /[0-9a-f]{64}$/.test(name)), temp: all.filter((name) => name.endsWith(".tmp")) };
}

/** A sync and an async memoized function on `state`, counting executions and collecting reported errors. */
function memoized(state: TempFileState, size: (n: number) => number) {
  const reported: MimicError[] = [];
  const executions = { sync: 0, async: 0 };
  const value = (kind: string, n: number): string => `${kind}:${n}:`.padEnd(size(n), "x");
  const onError = (error: MimicError): void => {
    reported.push(error);
  };
  const sync = Mime({ state, name: "reliability.disk.sync", onError })((n: number) => {
    executions.sync++;
    return value("sync", n);
  });
  const async = Mime({ state, name: "reliability.disk.async", onError })(async (n: number) => {
    executions.async++;
    return value("async", n);
  });
  return { sync, async, reported, executions, value };
}

function systemCodes(errors: readonly MimicError[]): string[] {
  return [...new Set(errors.map((e) => (e instanceof FileSystemStateError ? e.systemCode ?? "none" : e.constructor.name)))];
}

it(`a read-only directory (${canMount ? "tmpfs remounted ro" : "without mount: chmod or injected"}): calls return the right values, the error is reported, stored entries still hit, nothing half-written`, async () => {
  const disk = readOnlyDisk();
  try {
    const state = new TempFileState({ basePath: disk.basePath, static: true });
    const { sync, async, reported, executions, value } = memoized(state, () => 100);
    for (let n = 0; n < 5; n++) {
      expect(sync(n)).toBe(value("sync", n));
      expect(await async(n)).toBe(value("async", n));
    }
    expect(reported).toEqual([]);
    const stored = files(state.directory);
    expect(stored.entries).toHaveLength(10);

    await disk.fail(state);
    const executionsBefore = { ...executions };
    // Stored entries are still read: no execution.
    for (let n = 0; n < 5; n++) {
      expect(sync(n)).toBe(value("sync", n));
      expect(await async(n)).toBe(value("async", n));
    }
    expect(executions).toEqual(executionsBefore);
    // New calls cannot be stored: each runs the function, returns its value, and the error is reported.
    for (let n = 5; n < 25; n++) {
      expect(sync(n)).toBe(value("sync", n));
      expect(await async(n)).toBe(value("async", n));
    }
    expect(executions).toEqual({ sync: executionsBefore.sync + 20, async: executionsBefore.async + 20 });
    expect(reported).toHaveLength(40);
    expect(reported.every((e) => e instanceof FileSystemStateError && e.code === "MIMIC_STATE_IO")).toBe(true);
    expect(systemCodes(reported)).toEqual([disk.expectedCode]);
    const after = files(state.directory);
    expect(after.temp).toEqual([]);
    expect(after.entries).toEqual(stored.entries);
    recordFigures("disk-read-only", { disk: disk.kind, calls: 50, executions, reported: reported.length, codes: systemCodes(reported) });
    await state.close();
  } finally {
    disk.dispose();
  }
});

it(`a full disk (${canMount ? "64 KiB tmpfs" : "without mount: injected ENOSPC"}): calls return the right values, ENOSPC is reported, no temp file or partial entry is left, small entries still fit`, async () => {
  const disk = smallDisk(64);
  try {
    const state = new TempFileState({ basePath: disk.basePath, static: true });
    await disk.fail(state);
    // Even arguments give 100-byte values, odd ones 200 KiB values that cannot fit.
    const { sync, async, reported, executions, value } = memoized(state, (n) => (n % 2 === 0 ? 100 : 200 * 1024));
    for (let n = 0; n < 10; n++) {
      expect(sync(n)).toBe(value("sync", n));
      expect(await async(n)).toBe(value("async", n));
    }
    expect(systemCodes(reported)).toEqual(["ENOSPC"]);
    expect(reported).toHaveLength(10);
    const after = files(state.directory);
    expect(after.temp).toEqual([]);
    expect(after.entries).toHaveLength(10);

    // The small entries were stored and hit; the big ones were not, and run again.
    const executionsBefore = { ...executions };
    for (let n = 0; n < 10; n += 2) {
      expect(sync(n)).toBe(value("sync", n));
      expect(await async(n)).toBe(value("async", n));
    }
    expect(executions).toEqual(executionsBefore);
    expect(sync(1)).toBe(value("sync", 1));
    expect(executions.sync).toBe(executionsBefore.sync + 1);
    // Space was given back: more small entries still fit.
    expect(sync(100)).toBe(value("sync", 100));
    expect(reported).toHaveLength(11);
    expect(files(state.directory).entries).toHaveLength(11);
    recordFigures("disk-full", { disk: disk.kind, calls: 32, executions, reported: reported.length, codes: systemCodes(reported) });
    await state.close();
  } finally {
    disk.dispose();
  }
});
