import type { MessagePort } from "node:worker_threads";
import type { ConnectionSpec } from "../connection-spec.js";

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

/** One blocking operation on connection `conn`; keys are Redis keys, values encoded entries. */
export type SyncRequest =
  | { readonly id: number; readonly conn: number; readonly op: "get"; readonly key: string | Uint8Array; readonly label: string }
  | {
      readonly id: number;
      readonly conn: number;
      readonly op: "set";
      readonly key: string | Uint8Array;
      readonly label: string;
      readonly bytes: Uint8Array;
      readonly px: number | null;
      /** The tag sets to list the entry in (`set` with `{ tags }`); empty for an untagged entry. */
      readonly tagKeys: ReadonlyArray<string | Uint8Array>;
    }
  | { readonly id: number; readonly conn: number; readonly op: "delete"; readonly key: string | Uint8Array; readonly label: string }
  | {
      readonly id: number;
      readonly conn: number;
      readonly op: "clear";
      /** `SCAN MATCH` patterns: the whole prefix (`clear`) or a namespace's forms (`deletePrefix`). */
      readonly patterns: ReadonlyArray<string | Uint8Array>;
      readonly label: string;
    };

/** Everything the main thread posts to the worker. */
export type ToWorker = OpenMessage | CloseMessage | SyncRequest;

/** A StateError flattened for the trip back (class identity does not survive structured clone). */
export interface WireError {
  readonly code: string;
  readonly message: string;
}

/** The worker's answer to the request with the same `id`. */
export type SyncResponse =
  | { readonly id: number; readonly ok: true; readonly bytes: Uint8Array | null }
  | { readonly id: number; readonly ok: false; readonly error: WireError };
