import { rmSync } from "node:fs";

// One `exit` listener for every private directory of the process, however many states exist:
// a listener per instance would trip Node's MaxListenersExceededWarning and leak with the states.
const directories = new Set<string>();

function removeAll(): void {
  for (const directory of directories) {
    try {
      rmSync(directory, { recursive: true, force: true });
    } catch {
      // The process is exiting; there is no one left to report to.
    }
  }
  directories.clear();
}

/** Removes `directory` when the process exits normally (end of the event loop or `process.exit`). */
export function removeAtExit(directory: string): void {
  if (directories.size === 0) process.on("exit", removeAll);
  directories.add(directory);
}

/** Undoes {@link removeAtExit}, once the state has removed the directory itself. */
export function keepAtExit(directory: string): void {
  if (directories.delete(directory) && directories.size === 0) process.off("exit", removeAll);
}
