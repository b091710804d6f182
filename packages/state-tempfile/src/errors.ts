import { StateError } from "@mimic/core";

/**
 * A file-system call failed while reading or writing the cache directory: disk full (`ENOSPC`),
 * read-only file system (`EROFS`), permission denied (`EACCES`, `EPERM`), a path component that is
 * not a directory (`ENOTDIR`)… Mimic reports it and calls the function instead (fail-open).
 * Code `MIMIC_STATE_IO`; the system's own code is in {@link FileSystemStateError.systemCode}.
 */
export class FileSystemStateError extends StateError {
  /** The file or directory the failed call was about. */
  readonly path: string;
  /** The operating system's error code, e.g. `"ENOSPC"`; `undefined` if the cause had none. */
  readonly systemCode: string | undefined;
  /** The failed call, e.g. `"open"` or `"rename"`, when Node reported it. */
  readonly syscall: string | undefined;

  constructor(action: string, path: string, cause: unknown) {
    const systemCode = errnoCode(cause);
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`TempFileState: cannot ${action} ${path}: ${systemCode ?? "error"} (${detail})`, {
      cause,
      code: "MIMIC_STATE_IO",
    });
    this.path = path;
    this.systemCode = systemCode;
    const syscall = (cause as { syscall?: unknown } | null)?.syscall;
    this.syscall = typeof syscall === "string" ? syscall : undefined;
  }
}

/** The `code` of a Node system error (`"ENOENT"`…), or `undefined`. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether `error` says the path does not exist. */
export function isNotFound(error: unknown): boolean {
  return errnoCode(error) === "ENOENT";
}

/**
 * The cache directory, its `basePath` or an entry file is not safe to trust: another (non-root) user
 * owns it, or it is writable by group or others (a `basePath` without the sticky bit), or it is a
 * symbolic link, or it is no longer the directory the state verified (renamed, replaced). Entries
 * there could have been written by someone else and are never deserialized; Mimic reports the error
 * and calls the function instead. The message names the path, its owner and what to do.
 * Code `MIMIC_STATE_UNSAFE_DIRECTORY`.
 */
export class UnsafeDirectoryError extends StateError {
  /** The directory or file refused. */
  readonly path: string;
  /** Its owner's uid, when it was inspected. */
  readonly ownerUid: number | undefined;
  /** Its permission bits (e.g. `0o777`), when it was inspected. */
  readonly mode: number | undefined;

  constructor(path: string, message: string, details: { ownerUid?: number | undefined; mode?: number | undefined } = {}) {
    super(message, { code: "MIMIC_STATE_UNSAFE_DIRECTORY" });
    this.path = path;
    this.ownerUid = details.ownerUid;
    this.mode = details.mode;
  }
}
