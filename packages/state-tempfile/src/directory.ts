import { chmodSync, lstatSync, mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { StateError } from "@mimic/core";
import { FileSystemStateError, isNotFound } from "./errors.js";

/** Mode of every directory the state creates: its owner only. */
export const DIRECTORY_MODE = 0o700;
/** Mode of every file the state creates: its owner only. */
export const FILE_MODE = 0o600;

function ensureBasePath(basePath: string): void {
  try {
    mkdirSync(basePath, { recursive: true, mode: DIRECTORY_MODE });
  } catch (error) {
    throw new FileSystemStateError("create the base directory", basePath, error);
  }
}

/** Makes a new private directory `<basePath>/mimic-XXXXXX` (mode 0700). */
export function createPrivateDirectory(basePath: string): string {
  ensureBasePath(basePath);
  try {
    return mkdtempSync(join(basePath, "mimic-"));
  } catch (error) {
    throw new FileSystemStateError("create a private cache directory in", basePath, error);
  }
}

/** The shared directory's path: per user, so that users of one machine never read each other's files. */
export function staticDirectoryPath(basePath: string): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  return join(basePath, uid === undefined ? "mimic-cache" : `mimic-cache-${uid}`);
}

/**
 * Creates or opens the shared directory. Entries are deserialized, so a directory that someone else
 * could write to is refused: it must be a real directory (not a symbolic link), owned by this user,
 * and not writable by group or others. A directory merely readable by others is tightened to 0700.
 */
export function openStaticDirectory(basePath: string): string {
  ensureBasePath(basePath);
  const directory = staticDirectoryPath(basePath);
  try {
    mkdirSync(directory, { mode: DIRECTORY_MODE });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") {
      throw new FileSystemStateError("create the shared cache directory", directory, error);
    }
  }
  let stats;
  try {
    stats = lstatSync(directory);
  } catch (error) {
    if (isNotFound(error)) return openStaticDirectory(basePath);
    throw new FileSystemStateError("inspect the shared cache directory", directory, error);
  }
  if (!stats.isDirectory()) {
    throw new StateError(
      `TempFileState: ${directory} exists but is ${stats.isSymbolicLink() ? "a symbolic link" : "not a directory"}; ` +
        `refusing to use it as the shared cache directory`,
    );
  }
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  if (uid !== undefined && stats.uid !== uid) {
    throw new StateError(
      `TempFileState: ${directory} belongs to uid ${stats.uid}, not to this process's uid ${uid}; ` +
        `refusing to deserialize files another user controls`,
    );
  }
  if ((stats.mode & 0o022) !== 0) {
    throw new StateError(
      `TempFileState: ${directory} is writable by group or others (mode ${(stats.mode & 0o777).toString(8)}); ` +
        `refusing to deserialize files others may have written. Remove it or chmod it to 700.`,
    );
  }
  if ((stats.mode & 0o077) !== 0) {
    try {
      chmodSync(directory, DIRECTORY_MODE);
    } catch (error) {
      throw new FileSystemStateError("restrict the mode of", directory, error);
    }
  }
  return directory;
}
