/**
 * `@mimic/core/state-kit`: what a state package needs from core beyond the public contract — the
 * plumbing of I/O-free hits (partitions of a process-local state, a shared state's local copy) and
 * one toolkit for checking options. Applications never need this entry point.
 * @packageDocumentation
 */
export {
  isLocallyCached,
  isPartitioned,
  type LocalPartition,
  type LocalReader,
  type LocallyCachedState,
  type PartitionedState,
} from "./state/local-access.js";
export { describeValue, MIN_SECRET_BYTES, rejectUnknownOptions } from "./option-kit.js";
export { preciseNow } from "./clock.js";
