import { mtime, type Steps } from "./fs-steps.js";

/**
 * How old a temporary file, claim or trash directory of a live process must be before it counts as
 * abandoned. Each takes milliseconds to finish; a pid can be alive yet belong to another process
 * (pid reuse, another container sharing the directory), so age is the fallback.
 */
export const STALE_TEMP_MS = 10 * 60 * 1000;

/** Whether a process with this pid exists (as far as this process can tell). */
export function isAlive(pid: number): boolean {
  if (pid < 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/**
 * Whether the file or directory at `path`, left by process `owner`, is abandoned: its owner is
 * another process that is gone, or it is older than {@link STALE_TEMP_MS}.
 * @throws the `stat` error (ENOENT when someone else removed it meanwhile)
 */
export function* isAbandoned(path: string, owner: number): Steps<boolean> {
  if (owner !== process.pid && !isAlive(owner)) return true;
  return Date.now() - (yield* mtime(path)) > STALE_TEMP_MS;
}
