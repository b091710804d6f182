import { InvalidOptionError } from "../errors.js";
import { fencesWrites, type SetOptions } from "../state/contract.js";
import type { Binding } from "./binding.js";
import type { Memo } from "./memo.js";

/** Tags of a call, checked, or `undefined` without a `tags` option. */
export function tagsFor(memo: Memo, thisArg: unknown, args: unknown[]): readonly string[] | undefined {
  const { tags: tagsOf } = memo.settings;
  if (tagsOf === undefined) return undefined;
  const tags = tagsOf.apply(thisArg, args);
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string")) {
    throw new InvalidOptionError(
      `Mime: the \`tags\` option of "${memo.name}" must return an array of strings, got ${JSON.stringify(tags) ?? String(tags)}`,
    );
  }
  return tags;
}

/**
 * The 4th argument of a write: its tags, and when its execution began for a state that fences
 * writes by invalidations; `undefined` when there is nothing to pass.
 */
export function writeOptions(b: Binding, tags: readonly string[] | undefined, startedAt: number): SetOptions | undefined {
  const fenced = fencesWrites(b.state);
  if (tags === undefined) return fenced ? { startedAt } : undefined;
  return fenced ? { tags, startedAt } : { tags };
}
