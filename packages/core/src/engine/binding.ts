import type { ErrorHandler } from "../config.js";
import { ConfigError } from "../errors.js";
import { getGlobalConfig, globalConfigGeneration } from "../global-config.js";
import { claimSharedIdentity } from "../keys/identity.js";
import {
  hasSyncOperations,
  type IState,
  stateName,
  supportsLocking,
  supportsTags,
  type SyncCapableState,
} from "../state/contract.js";
import {
  isLocallyCached,
  isPartitioned,
  type LocalPartition,
  type LocalReader,
  type LocallyCachedState,
  type PartitionedState,
} from "../state/local-access.js";
import type { Memo } from "./memo.js";
import { partitionFor } from "./slot.js";
import { registerTaggedState } from "./tag-invalidation.js";

/** The state a wrapper uses, resolved from its options or the global config, with its policy. */
export interface Binding {
  /** The global config generation it was resolved for (0 for a state given in the options). */
  readonly generation: number;
  readonly state: IState;
  readonly syncState: SyncCapableState | undefined;
  readonly local: boolean;
  readonly onError: ErrorHandler | undefined;
  readonly strict: boolean;
  /** Set when the state is process-local and hands out partitions (fast hits by argument). */
  readonly partitioned: PartitionedState | undefined;
  /** Set when the state is shared but keeps a local copy that is read before the backend. */
  readonly layered: LocallyCachedState | undefined;
  /** This wrapper's partitions for calls without an instance, by call kind, created on first use. */
  readonly partitions: { sync?: LocalPartition; async?: LocalPartition };
  /** Per-instance partitions of a method, held weakly. */
  readonly instancePartitions: WeakMap<object, { sync?: LocalPartition; async?: LocalPartition }>;
  /**
   * What a call with one or two primitive arguments and no `this` reads directly, by call kind, when
   * the function and state allow that shortcut: the partition of a process-local state, or the
   * reader of a shared state's local copy (where not finding the entry is not yet a miss). The sync
   * one is dropped if the function turns out to be async.
   */
  fastSync: LocalReader | undefined;
  fastAsync: LocalReader | undefined;
}

export function syncStateRequired(state: IState, name: string): ConfigError {
  return new ConfigError(
    `Mime: "${name}" is a synchronous function but its state (${stateName(state)}) has no sync operations ` +
      `(getSync/setSync). Use a state that has them (MemoryState, RedisState, TempFileState), or, if the ` +
      `function returns a promise, declare it async or pass { async: true }.`,
  );
}

export function tagsUnsupported(state: IState, name: string): ConfigError {
  return new ConfigError(
    `Mime: "${name}" has a \`tags\` option but its state (${stateName(state)}) cannot tag entries ` +
      `(it has no invalidateTags).`,
  );
}

/** The binding in force: the cached one, or a new one when the global config has changed. */
export function currentBinding(memo: Memo): Binding {
  const generation = memo.settings.state ? 0 : globalConfigGeneration();
  const b = memo.binding;
  return b !== undefined && b.generation === generation ? b : bind(memo, generation);
}

function bind(memo: Memo, generation: number): Binding {
  const { settings, identity, name } = memo;
  const config = getGlobalConfig();
  const state = settings.state ?? config.getState();
  if (settings.tags !== undefined) {
    if (!supportsTags(state)) throw tagsUnsupported(state, name);
    registerTaggedState(state);
  }
  const local = state.local === true;
  if (settings.lock !== undefined && !local && !supportsLocking(state)) {
    throw new ConfigError(
      `Mime: "${name}" has a \`lock\` option but its state (${stateName(state)}) cannot lease keys (it has no lock/unlock)`,
    );
  }
  if (!local) {
    if (!identity.hasSourceText && settings.name === undefined) {
      throw new ConfigError(
        `Mime: "${name}" has no source text to tell its versions apart (a bound or native function), so on a ` +
          `shared state (${stateName(state)}) two releases would read each other's entries: pass a \`name\` ` +
          `option (and bump \`version\` when its behaviour changes).`,
      );
    }
    // One claim per identity: the sync and async namespaces of one name, version and source differ
    // only by their kind, so two functions that share one share both (and are warned about once).
    claimSharedIdentity(state, identity.shared("sync"), memo.fn, name);
  }
  const b: Binding = {
    generation,
    state,
    syncState: hasSyncOperations(state) ? state : undefined,
    local,
    onError: settings.onError ?? config.onError,
    strict: settings.strict ?? config.strict,
    partitioned: isPartitioned(state) ? state : undefined,
    layered: isLocallyCached(state) ? state : undefined,
    partitions: {},
    instancePartitions: new WeakMap(),
    fastSync: undefined,
    fastAsync: undefined,
  };
  // The shortcut skips the key option and envelopes, so it exists only without them.
  if (settings.key === undefined && memo.envelope === undefined) {
    if (b.partitioned !== undefined) {
      if (!memo.asyncMode) b.fastSync = partitionFor(memo, b, b.partitioned, undefined, "sync");
      b.fastAsync = partitionFor(memo, b, b.partitioned, undefined, "async");
    } else if (b.layered !== undefined) {
      if (!memo.asyncMode) b.fastSync = b.layered.localReader(identity.shared("sync"));
      b.fastAsync = b.layered.localReader(identity.shared("async"));
    }
  }
  memo.binding = b;
  return b;
}
