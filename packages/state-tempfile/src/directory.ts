import { StampFiles, StampsInMemory, type StampBook } from "./fences.js";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { FileSystemStateError, isNotFound } from "./errors.js";
import { pathStatsOf, type PathStats } from "./fs-steps.js";
import { TrustedDirectory, basePathProblem, cacheDirectoryProblem, currentUid } from "./trusted-directory.js";

/** Mode of every directory the state creates: its owner only. */
export const DIRECTORY_MODE = 0o700;
/** Mode of every file the state creates: its owner only. */
export const FILE_MODE = 0o600;

/**
 * Makes `basePath` (mode 0700, with its parents) unless it exists, and checks that it may hold a
 * cache directory (see `trusted-directory.ts`).
 * @throws UnsafeDirectoryError when another user could replace what the state makes in it
 */
function ensureBasePath(basePath: string): void {
  let stats: Stats;
  try {
    mkdirSync(basePath, { recursive: true, mode: DIRECTORY_MODE });
    stats = statSync(basePath);
  } catch (error) {
    throw new FileSystemStateError("create the base directory", basePath, error);
  }
  const problem = basePathProblem(basePath, pathStatsOf(stats), currentUid());
  if (problem !== undefined) throw problem;
}

/** Checks a cache directory the state made or found, and remembers which one it is. */
function trust(directory: string, stamps: StampBook): TrustedDirectory {
  let stats: PathStats;
  try {
    stats = pathStatsOf(lstatSync(directory));
  } catch (error) {
    throw new FileSystemStateError("inspect the cache directory", directory, error);
  }
  const uid = currentUid();
  const problem = cacheDirectoryProblem(directory, stats, uid);
  if (problem !== undefined) throw problem;
  return new TrustedDirectory(directory, stats, uid, stamps);
}

/** Makes a new private directory `<basePath>/mimic-XXXXXX` (mode 0700); only this process uses it, so its stamps stay in memory. */
export function createPrivateDirectory(basePath: string): TrustedDirectory {
  ensureBasePath(basePath);
  let directory: string;
  try {
    directory = mkdtempSync(join(basePath, "mimic-"));
  } catch (error) {
    throw new FileSystemStateError("create a private cache directory in", basePath, error);
  }
  return trust(directory, new StampsInMemory());
}

/** The shared directory's path: per user, so that users of one machine never read each other's files. */
export function staticDirectoryPath(basePath: string): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  return join(basePath, uid === undefined ? "mimic-cache" : `mimic-cache-${uid}`);
}

/**
 * Creates or opens the shared directory. Entries are deserialized, so a directory that someone else
 * could write to is refused: it must be a real directory (not a symbolic link), owned by this user,
 * and not writable by group or others, in a `basePath` no other user can change. A directory merely
 * readable by others is tightened to 0700.
 * @throws UnsafeDirectoryError when it or `basePath` is not safe; FileSystemStateError when it
 *   cannot be made or inspected
 */
export function openStaticDirectory(basePath: string): TrustedDirectory {
  ensureBasePath(basePath);
  const directory = staticDirectoryPath(basePath);
  try {
    mkdirSync(directory, { mode: DIRECTORY_MODE });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") {
      throw new FileSystemStateError("create the shared cache directory", directory, error);
    }
  }
  let stats: PathStats;
  try {
    stats = pathStatsOf(lstatSync(directory));
  } catch (error) {
    if (isNotFound(error)) return openStaticDirectory(basePath);
    throw new FileSystemStateError("inspect the shared cache directory", directory, error);
  }
  const problem = cacheDirectoryProblem(directory, stats, currentUid());
  if (problem !== undefined) throw problem;
  if ((stats.mode & 0o077) !== 0) {
    try {
      chmodSync(directory, DIRECTORY_MODE);
    } catch (error) {
      throw new FileSystemStateError("restrict the mode of", directory, error);
    }
  }
  return trust(directory, new StampFiles(directory));
}
