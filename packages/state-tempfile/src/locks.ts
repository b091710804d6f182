import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { sep } from "node:path";
import { InvalidTtlError, validateTtl } from "@mimic/core";
import { DIRECTORY_MODE, FILE_MODE } from "./directory.js";
import { FileSystemStateError, errnoCode, isNotFound } from "./errors.js";
import { listIfPresent, createEmpty, mtime, read, remove, type Steps } from "./fs-steps.js";
import { isAbandoned } from "./liveness.js";
import { ENTRY_FILE, LOCK_DIRECTORY, LOCK_GUARD_FILE, tempFileIn, tempFileWriter } from "./paths.js";

/*
 * Leases for cross-process single-flight. The lease on a key is the file `l2/<key digest>`, holding
 * its token and expiry. It is written completely to a temporary file first and then `link`ed into
 * place: link fails with EEXIST when the lease exists, so exactly one process creates it, and no one
 * ever reads a half-written lease.
 *
 * A lease whose expiry has passed belongs to a holder that died or overran; it may be taken over.
 * Taking over (remove the old lease, link a new one) and releasing a nearly expired lease both need
 * "check the token, then remove" to be atomic, which no file-system call is; they are serialized by
 * a guard file, `l2/<key digest>.guard`, created with O_EXCL and held for a few system calls. A
 * guard older than GUARD_STALE_MS was left by a process that died holding it and is removed.
 */

/** A guard is held for microseconds; one this old was abandoned. */
const GUARD_STALE_MS = 5_000;
/** A holder releases without the guard while its lease has this much time left: no one can take it over. */
const UNGUARDED_RELEASE_MARGIN_MS = 1_000;
/** A sweep removes leases expired for this long (their holders died; a later lock would take them over). */
export const LEASE_GRACE_MS = 60_000;
const LEASE_READ_SIZE = 1024;

interface Lease {
  readonly token: string;
  readonly expiresAt: number;
}

/** A lease file that does not parse (damaged by hand or by a crash): never valid, so always stale. */
const UNREADABLE: Lease = { token: "", expiresAt: -Infinity };

function parseLease(bytes: Buffer): Lease {
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as Partial<Lease> | null;
    if (typeof parsed?.token === "string" && typeof parsed.expiresAt === "number") {
      return { token: parsed.token, expiresAt: parsed.expiresAt };
    }
  } catch {
    // falls through
  }
  return UNREADABLE;
}

/**
 * A lease of `lease` seconds, in ms.
 * @throws InvalidTtlError for a lease that is not a positive number of seconds
 */
export function leaseMs(lease: number): number {
  const seconds = validateTtl(lease, "TempFileState.lock: lease");
  if (seconds === null || seconds <= 0) {
    throw new InvalidTtlError(`TempFileState.lock: lease must be a positive number of seconds, got ${String(lease)}`);
  }
  return seconds * 1000;
}

/** The lease file of a key digest in the cache directory `root`. */
export function leaseFile(root: string, digest: string): string {
  return `${root}${sep}${LOCK_DIRECTORY}${sep}${digest}`;
}

async function readLease(file: string): Promise<Lease | undefined> {
  try {
    return parseLease(await readFile(file));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new FileSystemStateError("read the lease", file, error);
  }
}

async function writeNewFile(path: string, directory: string, content: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await open(path, "wx", FILE_MODE);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      return;
    } catch (error) {
      if (!isNotFound(error) || attempt === 3) throw new FileSystemStateError("create", path, error);
    }
    try {
      await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
    } catch (error) {
      throw new FileSystemStateError("create", directory, error);
    }
  }
}

async function takeGuard(guard: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await (await open(guard, "wx", FILE_MODE)).close();
      return true;
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw new FileSystemStateError("create", guard, error);
    }
    let age: number;
    try {
      age = Date.now() - (await stat(guard)).mtimeMs;
    } catch (error) {
      if (isNotFound(error)) continue;
      throw new FileSystemStateError("inspect", guard, error);
    }
    if (age < GUARD_STALE_MS) return false;
    await unlink(guard).catch(() => undefined);
  }
  return false;
}

async function dropGuard(guard: string): Promise<void> {
  await unlink(guard).catch(() => undefined);
}

/**
 * Under the guard, replaces the stale lease `seen` by the new lease in `temp`: "taken" when this
 * process now holds it, "held" when someone else does (a fresh lease, or another taker).
 */
async function takeOver(file: string, temp: string, seen: Lease): Promise<"taken" | "held"> {
  const guard = `${file}.guard`;
  if (!(await takeGuard(guard))) return "held";
  try {
    const current = await readLease(file);
    if (current !== undefined) {
      if (current.token !== seen.token || current.expiresAt > Date.now()) return "held";
      try {
        await unlink(file);
      } catch (error) {
        if (!isNotFound(error)) throw new FileSystemStateError("remove the stale lease", file, error);
      }
    }
    try {
      await link(temp, file);
      return "taken";
    } catch (error) {
      if (errnoCode(error) === "EEXIST") return "held";
      throw new FileSystemStateError("create the lease", file, error);
    }
  } finally {
    await dropGuard(guard);
  }
}

/**
 * Takes the lease on the key whose digest is `digest` for `leaseMs` milliseconds, unless a live
 * lease exists; an expired one is taken over.
 * @returns a random token (128 bits) proving ownership, or `undefined` when someone holds the lease
 * @throws FileSystemStateError when the lease directory cannot be written
 */
export async function acquireLease(root: string, digest: string, leaseMs: number): Promise<string | undefined> {
  const directory = `${root}${sep}${LOCK_DIRECTORY}`;
  const file = leaseFile(root, digest);
  const token = randomBytes(16).toString("hex");
  const temp = tempFileIn(directory, digest);
  await writeNewFile(temp, directory, JSON.stringify({ token, expiresAt: Date.now() + leaseMs, pid: process.pid }));
  try {
    // A few rounds: a lease released between our link and our read is tried again at once.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(temp, file);
        return token;
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw new FileSystemStateError("create the lease", file, error);
      }
      const current = await readLease(file);
      if (current === undefined) continue;
      if (current.expiresAt > Date.now()) return undefined;
      return (await takeOver(file, temp, current)) === "taken" ? token : undefined;
    }
    return undefined;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Releases the lease on `digest` if `token` still holds it; a lease that expired and was taken over
 * is left to its new holder.
 * @throws FileSystemStateError when the lease cannot be read or removed
 */
export async function releaseLease(root: string, digest: string, token: string): Promise<void> {
  const file = leaseFile(root, digest);
  const current = await readLease(file);
  if (current === undefined || current.token !== token) return;
  if (current.expiresAt - Date.now() > UNGUARDED_RELEASE_MARGIN_MS) {
    await unlinkLease(file);
    return;
  }
  // The lease is (nearly) over: another process may be taking it over this very moment.
  const guard = `${file}.guard`;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await takeGuard(guard)) {
      try {
        if ((await readLease(file))?.token === token) await unlinkLease(file);
      } finally {
        await dropGuard(guard);
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // Someone keeps the guard: the lease expires by itself.
}

async function unlinkLease(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (!isNotFound(error)) throw new FileSystemStateError("remove the lease", file, error);
  }
}

/** What a sweep of the lease directory removed. */
export interface LeaseSweep {
  readonly now: number;
  readonly report: (error: Error) => void;
  /** Leases expired for more than {@link LEASE_GRACE_MS}, removed. */
  leases: number;
  /** Temporary files and guards left by processes that died. */
  orphans: number;
}

/** Removes long-expired leases, abandoned guards and temporary files from the lease directory. */
export function* sweepLeaseDirectory(directory: string, sweep: LeaseSweep): Steps<void> {
  const names = yield* listIfPresent(directory, sweep.report);
  if (names === undefined) return;
  for (const name of names) {
    const path = directory + sep + name;
    try {
      const writer = tempFileWriter(name);
      if (writer !== undefined) {
        if (yield* isAbandoned(path, writer)) {
          yield* remove(path);
          sweep.orphans++;
        }
      } else if (LOCK_GUARD_FILE.test(name)) {
        if (sweep.now - (yield* mtime(path)) > GUARD_STALE_MS) {
          yield* remove(path);
          sweep.orphans++;
        }
      } else if (ENTRY_FILE.test(name)) {
        const seen = parseLease((yield* read(path, LEASE_READ_SIZE)).bytes);
        if (seen.expiresAt + LEASE_GRACE_MS >= sweep.now) continue;
        const guard = `${path}.guard`;
        if (!(yield* createEmpty(guard))) continue;
        try {
          const again = parseLease((yield* read(path, LEASE_READ_SIZE)).bytes);
          if (again.token === seen.token && again.expiresAt + LEASE_GRACE_MS < sweep.now) {
            yield* remove(path);
            sweep.leases++;
          }
        } finally {
          yield* remove(guard);
        }
      }
    } catch (error) {
      if (!isNotFound(error)) sweep.report(new FileSystemStateError("sweep", path, error));
    }
  }
}
