import { StateError } from "@mimic/core";

/**
 * Hands a problem found without a caller to throw to (a background sweep, the extra failures of a
 * multi-file operation) to the state's `onError`, as a `StateError`. A throwing handler is ignored:
 * it must not break the write that triggered the sweep.
 */
export function reportProblem(onError: (error: StateError) => void, error: unknown): void {
  const problem = error instanceof StateError ? error : new StateError(`TempFileState: background sweep failed: ${String(error)}`, { cause: error });
  try {
    onError(problem);
  } catch {
    // See above.
  }
}

/** Throws the first problem of a multi-file operation and reports the others. */
export function throwFirst(problems: readonly Error[], report: (error: Error) => void): void {
  const [first, ...rest] = problems;
  for (const problem of rest) report(problem);
  if (first) throw first;
}
