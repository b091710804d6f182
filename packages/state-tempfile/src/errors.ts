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
