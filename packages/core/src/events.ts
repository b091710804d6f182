import { channel } from "node:diagnostics_channel";
import { startDebugLog } from "./debug-log.js";
import type { MimicError } from "./errors.js";

/**
 * What Mimic publishes on its `node:diagnostics_channel` channels. Nothing is built or published
 * while a channel has no subscriber, so observability costs nothing until someone listens.
 */
export interface MimicEvent {
  /** The memoized function's name (its `name` option, else its own name). */
  functionName: string;
  /** The cache key of the call. */
  key: string;
  /** The state's class name. */
  state: string;
  /**
   * Milliseconds the call took: the lookup for a hit, the function plus the write for a miss and a
   * `set`, the failed operation for an error.
   */
  duration: number;
}

/** A `mimic:error` event: a backend error, absorbed or (with `strict`) propagated. */
export interface MimicErrorEvent extends MimicEvent {
  error: MimicError;
  /** The state operation that failed. */
  operation: string;
}

/** Channel names, for `diagnostics_channel.subscribe(name, listener)`. */
export const MIMIC_CHANNELS = {
  /** A call answered from the cache. */
  hit: "mimic:hit",
  /** A call that ran the function. */
  miss: "mimic:miss",
  /** A result written to the state. */
  set: "mimic:set",
  /** A backend error. */
  error: "mimic:error",
  /** A call answered with a stale value (stale-while-revalidate or stale-if-error). */
  stale: "mimic:stale",
} as const;

/** The channels themselves; `hasSubscribers` is checked before any event is built. */
export const channels = {
  hit: channel(MIMIC_CHANNELS.hit),
  miss: channel(MIMIC_CHANNELS.miss),
  set: channel(MIMIC_CHANNELS.set),
  error: channel(MIMIC_CHANNELS.error),
  stale: channel(MIMIC_CHANNELS.stale),
};

/** Whether anyone listens to any Mimic channel (then calls are timed). */
export function anyoneListening(): boolean {
  return (
    channels.hit.hasSubscribers ||
    channels.miss.hasSubscribers ||
    channels.set.hasSubscribers ||
    channels.error.hasSubscribers ||
    channels.stale.hasSubscribers
  );
}

startDebugLog();
