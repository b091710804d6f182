import { ConfigError } from "../errors.js";
import { encodeArguments, encodeCustomKey, encodeThisArgument } from "../keys/encode.js";
import { isLoneKeyable } from "../keys/keyable.js";
import type { CallKind } from "../keys/namespace.js";
import { stateName } from "../state/contract.js";
import type { LocalPartition, PartitionedState } from "../state/local-access.js";
import type { Binding } from "./binding.js";
import type { Memo } from "./memo.js";
import type { FlightAddress } from "./single-flight.js";

/**
 * Where a call's entry lives: in a partition of a process-local state, indexed by the argument
 * itself (`lone`, `pair`) or by its encoding (`encoded`); or under a key string in any state.
 */
export type Slot =
  | { readonly partition: LocalPartition; readonly shape: "lone"; readonly index: unknown }
  | { readonly partition: LocalPartition; readonly shape: "pair"; readonly index: readonly [unknown, unknown] }
  | { readonly partition: LocalPartition; readonly shape: "encoded"; readonly index: string }
  | { readonly partition: undefined; readonly key: string };

/** Disposes a partition once its owner (a wrapper, or an instance of a method) is garbage-collected. */
const partitionReaper = new FinalizationRegistry<LocalPartition>((partition) => partition.dispose());

/** `this` values that are an object to key per instance (not a plain call). */
function instanceOf(thisArg: unknown): object | undefined {
  if (thisArg === undefined || thisArg === null || thisArg === globalThis) return undefined;
  return typeof thisArg === "object" || typeof thisArg === "function" ? thisArg : undefined;
}

/** A primitive `this` of a strict-mode call (`shout.call("bye")`), which is part of the key. */
function isPrimitiveThis(thisArg: unknown): boolean {
  return thisArg !== undefined && thisArg !== null && typeof thisArg !== "object" && typeof thisArg !== "function";
}

/** The `this` a call is keyed by: its own, or none for a function that cannot read it (`Memo.keysThis`). */
function keyedThis(memo: Memo, thisArg: unknown): unknown {
  return memo.keysThis ? thisArg : undefined;
}

/** The key prefix of this function's entries in the bound state (per instance in a process-local state). */
export function namespaceFor(memo: Memo, b: Binding, thisArg: unknown, kind: CallKind): string {
  const instance = instanceOf(keyedThis(memo, thisArg));
  if (b.local) return memo.identity.local(kind, instance);
  if (instance !== undefined && memo.settings.key === undefined) {
    throw new ConfigError(
      `Mime: "${memo.name}" was called with \`this\` (${instance.constructor?.name ?? typeof instance}) on a shared ` +
        `state (${stateName(b.state)}), where entries outlive the instance. Pass a \`key\` option that says how ` +
        `\`this\` contributes, e.g. Mime({ key(this: User, id) { return [this.id, id]; } }).`,
    );
  }
  return memo.identity.shared(kind);
}

/**
 * The argument part of a key: the user's `key` option (which sees `this` and says how it
 * contributes), else the canonical encoding of a primitive `this` (see docs/KEY_FORMAT.md) and of
 * the arguments.
 */
export function argumentsKey(memo: Memo, thisArg: unknown, args: readonly unknown[]): string {
  const { key } = memo.settings;
  if (key !== undefined) return encodeCustomKey(key.apply(thisArg, args as unknown[]), memo.name);
  const encoded = encodeArguments(args, memo.name);
  const self = keyedThis(memo, thisArg);
  return isPrimitiveThis(self) ? encodeThisArgument(self, memo.name) + encoded : encoded;
}

/** The full key of a call in the bound state. */
export function keyFor(memo: Memo, b: Binding, thisArg: unknown, args: readonly unknown[], kind: CallKind): string {
  return namespaceFor(memo, b, thisArg, kind) + argumentsKey(memo, thisArg, args);
}

/** The partition of calls made with `thisArg` (per instance for a method), created on first use. */
export function partitionFor(memo: Memo, b: Binding, state: PartitionedState, thisArg: unknown, kind: CallKind): LocalPartition {
  const instance = instanceOf(keyedThis(memo, thisArg));
  const owned = instance === undefined ? b.partitions : b.instancePartitions.get(instance) ?? {};
  let partition = owned[kind];
  if (partition === undefined) {
    partition = state.partition(memo.identity.local(kind, instance));
    owned[kind] = partition;
    if (instance !== undefined) b.instancePartitions.set(instance, owned);
    partitionReaper.register(instance ?? memo.owner, partition);
  }
  return partition;
}

/**
 * Where this call's entry lives.
 * @param encoded the argument part of its key ({@link argumentsKey}), when the caller has it already:
 *   the wrapper's object-argument key cache, for a call with one object argument and no `key` option
 *   (so never one that indexes a partition by its own value)
 */
export function slotFor(memo: Memo, b: Binding, thisArg: unknown, args: readonly unknown[], kind: CallKind, encoded?: string): Slot {
  if (encoded !== undefined) {
    if (b.partitioned === undefined) return { partition: undefined, key: namespaceFor(memo, b, thisArg, kind) + encoded };
    return { partition: partitionFor(memo, b, b.partitioned, thisArg, kind), shape: "encoded", index: encoded };
  }
  if (b.partitioned !== undefined) {
    const partition = partitionFor(memo, b, b.partitioned, thisArg, kind);
    // One or two primitive arguments index the partition by their own values (a primitive `this`
    // is part of the key, so such calls take the encoded index).
    if (memo.settings.key === undefined && args.length <= 2 && args.length > 0 && !isPrimitiveThis(keyedThis(memo, thisArg)) && args.every(isLoneKeyable)) {
      return args.length === 1
        ? { partition, shape: "lone", index: args[0] }
        : { partition, shape: "pair", index: [args[0], args[1]] };
    }
    return { partition, shape: "encoded", index: argumentsKey(memo, thisArg, args) };
  }
  return { partition: undefined, key: keyFor(memo, b, thisArg, args, kind) };
}

/** The key string of a slot (computed on demand for partition slots: it costs an encoding). */
export function slotKey(memo: Memo, slot: Slot): string {
  if (slot.partition === undefined) return slot.key;
  if (slot.shape === "encoded") return slot.partition.namespace + slot.index;
  const args = slot.shape === "lone" ? [slot.index] : slot.index;
  return slot.partition.namespace + encodeArguments(args, memo.name);
}

/** Where the flight of a slot is joined: by partition and argument for a lone argument, else by key. */
export function flightAddress(memo: Memo, slot: Slot): FlightAddress {
  return slot.partition !== undefined && slot.shape === "lone" ? slot : slotKey(memo, slot);
}
