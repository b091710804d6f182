import type { MessagePort } from "node:worker_threads";
import type { ConnectionSpec } from "../connection-spec.js";
import type { RedisStep } from "../steps.js";

/** File name of the built worker, next to the package's `index.js` in `dist/`. */
export const WORKER_FILE = "redis-worker.js";

/** Slots of the shared `Int32Array` the two threads signal through. */
export const SIGNAL = 0; // bumped (and notified) whenever the worker posts a response or makes progress
export const BOOTED = 1; // 1 once the worker has loaded node-redis and created its connection
export const PROGRESS = 2; // bumped after each round trip of a long operation (clear)
export const SIGNAL_SLOTS = 3;

/** What the main thread hands the worker at start. */
export interface WorkerInput {
  readonly signals: SharedArrayBuffer;
  readonly port: MessagePort;
}

/**
 * Opens connection `conn` in the worker (one per state). Sent before the state's first request; the
 * port keeps messages in order, so no answer is needed.
 */
export interface OpenMessage {
  readonly op: "open";
  readonly conn: number;
  readonly spec: ConnectionSpec;
  readonly timeout: number;
}

/** Closes connection `conn` (its state was closed). No answer. */
export interface CloseMessage {
  readonly op: "close";
  readonly conn: number;
}

/**
 * Starts a tracking session: the worker opens RESP3 connections (one per master of a cluster), turns on
 * `CLIENT TRACKING ... BCAST PREFIX prefix` and reports on `port` (bumping `signals[0]` after each
 * message) every change Redis announces, so that the local layer on the calling thread can see them
 * synchronously, even while that thread never yields to its event loop.
 */
export interface TrackMessage {
  readonly op: "track";
  readonly session: number;
  readonly spec: ConnectionSpec;
  readonly prefix: string;
  readonly timeout: number;
  readonly port: MessagePort;
  readonly signals: SharedArrayBuffer;
}

/** Ends a tracking session and closes its connections. No answer. */
export interface UntrackMessage {
  readonly op: "untrack";
  readonly session: number;
}

/** What a tracking session reports, in order, on its port. */
export type TrackingEvent =
  /** Tracking is on at every node: reads sent from now on are covered by invalidations. */
  | { readonly kind: "on" }
  /** Tracking is lost or not yet established (invalidations may have been missed): drop everything. */
  | { readonly kind: "off"; readonly reason: string }
  /** These keys (the state's keys: prefix removed) changed, were deleted or expired. */
  | { readonly kind: "keys"; readonly keys: readonly string[] }
  /** These tags' records (ids: tag bytes as latin1) changed: drop the entries held with them. */
  | { readonly kind: "tags"; readonly tags: readonly string[] }
  /** The whole database was flushed: drop everything (tracking stays on). */
  | { readonly kind: "flush" };

/** One blocking step of an operation, on connection `conn`. */
export type SyncRequest = Exclude<RedisStep, { readonly op: "settleWrites" }> & { readonly id: number; readonly conn: number };

/** Everything the main thread posts to the worker. */
export type ToWorker = OpenMessage | CloseMessage | TrackMessage | UntrackMessage | SyncRequest;

/** A StateError flattened for the trip back (class identity does not survive structured clone). */
export interface WireError {
  readonly code: string;
  readonly message: string;
}

/** The worker's answer to the request with the same `id`. */
export type SyncResponse =
  /** `result` as {@link RedisStep} documents it for the request's op (bytes in buffers of their own). */
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };
