import {
  fencesWrites,
  stateName,
  supportsGetMany,
  supportsSetMany,
  type BatchReadingState,
  type BatchWritingState,
  type FencingState,
  supportsLocking,
  supportsPrefixDeletion,
  supportsTags,
  type IState,
  type LockingState,
  type PrefixDeletingState,
  type TaggingState,
} from "@mimic/core";
import { isPartitioned, type PartitionedState } from "@mimic/core/state-kit";
import { ConformanceError } from "./assertions.js";
import type { OptionalCapability } from "./options.js";

/** An optional `IState` capability, detected the way core detects it. */
export interface Capability<S extends IState> {
  readonly option: OptionalCapability;
  /** What the state needs for it, for messages: "a deletePrefix method". */
  readonly needs: string;
  /** Core's detector, by name, for messages and test titles. */
  readonly detector: string;
  detect(state: IState): state is S;
  /** A half-done implementation that core would silently ignore, or `undefined` when there is none. */
  inconsistency(state: IState): string | undefined;
}

export const prefixDeletion: Capability<PrefixDeletingState> = {
  option: "deletePrefix",
  needs: "a deletePrefix method",
  detector: "supportsPrefixDeletion",
  detect: supportsPrefixDeletion,
  inconsistency(state) {
    const sync = (state as { deletePrefixSync?: unknown }).deletePrefixSync;
    if (supportsPrefixDeletion(state)) {
      return sync === undefined || typeof sync === "function" ? undefined : `its deletePrefixSync is ${typeof sync}, not a method`;
    }
    return sync === undefined
      ? undefined
      : "it has deletePrefixSync but no deletePrefix; core detects the capability by deletePrefix, so it would never be used";
  },
};

export const tagging: Capability<TaggingState> = {
  option: "tags",
  needs: "an invalidateTags method",
  detector: "supportsTags",
  detect: supportsTags,
  inconsistency: () => undefined,
};

export const partitioning: Capability<PartitionedState> = {
  option: "partitions",
  needs: "a partition method and local: true",
  detector: "isPartitioned",
  detect: isPartitioned,
  inconsistency(state) {
    const { partition } = state as { partition?: unknown };
    return partition !== undefined && !isPartitioned(state)
      ? `it has a partition member but ${typeof partition !== "function" ? "it is not a method" : "local is not true"}; core uses partitions only on a process-local state`
      : undefined;
  },
};

export const locking: Capability<LockingState> = {
  option: "lock",
  needs: "lock and unlock methods",
  detector: "supportsLocking",
  detect: supportsLocking,
  inconsistency(state) {
    const { lock, unlock } = state as { lock?: unknown; unlock?: unknown };
    if (supportsLocking(state) || (lock === undefined && unlock === undefined)) return undefined;
    const [has, lacks] = typeof lock === "function" ? ["lock", "unlock"] : typeof unlock === "function" ? ["unlock", "lock"] : [];
    return has === undefined
      ? `its lock is ${typeof lock} and its unlock ${typeof unlock}, not methods`
      : `it has ${has} but no ${lacks} method; core's supportsLocking needs both, so the lock option would never use it`;
  },
};

export const manyReads: Capability<BatchReadingState> = {
  option: "getMany",
  needs: "a getMany method",
  detector: "supportsGetMany",
  detect: supportsGetMany,
  inconsistency: () => undefined,
};

export const manyWrites: Capability<BatchWritingState> = {
  option: "setMany",
  needs: "a setMany method",
  detector: "supportsSetMany",
  detect: supportsSetMany,
  inconsistency: () => undefined,
};

export const fencing: Capability<FencingState> = {
  option: "fencesWrites",
  needs: "fencesWrites = true",
  detector: "fencesWrites",
  detect: fencesWrites,
  inconsistency(state) {
    const { fencesWrites: flag } = state as { fencesWrites?: unknown };
    return flag === undefined || flag === true || flag === false ? undefined : `its fencesWrites is ${typeof flag}, not true`;
  },
};

/**
 * Fails unless `state` has `capability` (and has it consistently); returns it typed.
 * @param why why the state must have it, for the message: "capabilities.tags is true"
 */
export function requireCapability<S extends IState>(state: IState, capability: Capability<S>, origin: string, why: string): S {
  const problem = capability.inconsistency(state);
  if (problem !== undefined) throw new ConformanceError(`${stateName(state)} from ${origin}: ${problem}`);
  if (!capability.detect(state)) {
    throw new ConformanceError(
      `${why}, but ${stateName(state)} from ${origin} lacks ${capability.needs} ` +
        `(core's ${capability.detector} is false for it)`,
    );
  }
  return state;
}

/**
 * Fails when `state` has `capability` although the options deny it, or half-has it; core detects
 * capabilities on the state, so one that the suite does not test would still be used.
 */
export function requireAbsence<S extends IState>(state: IState, capability: Capability<S>): void {
  const problem = capability.inconsistency(state);
  if (problem !== undefined) throw new ConformanceError(`${stateName(state)}: ${problem}`);
  if (capability.detect(state)) {
    throw new ConformanceError(
      `capabilities.${capability.option} is false, but ${stateName(state)} has ${capability.needs}, which core ` +
        `detects and uses: claim it (true) or leave the option out so the suite tests it`,
    );
  }
}
