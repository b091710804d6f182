import { StateClosedError, type StateError } from "@mimic/core";
import type { ConnectionSpec } from "../connection-spec.js";
import { WorkerHost } from "./host.js";
import type { SyncRequest } from "./protocol.js";

/** A request as a state makes it: without the ids the bridge adds. */
export type BridgeRequest = SyncRequest extends infer R
  ? R extends SyncRequest
    ? Omit<R, "id" | "conn">
    : never
  : never;

let nextConnection = 1;

/**
 * One state's way into the shared worker thread: its own connection there (opened on first use, from
 * the state's connection spec, reopened if the thread had to be restarted), released on `close()`.
 */
export class SyncBridge {
  readonly #spec: () => ConnectionSpec;
  readonly #timeout: number;
  readonly #onError: ((error: StateError) => void) | undefined;
  readonly #conn = nextConnection++;
  #host: WorkerHost | undefined;
  #closed = false;

  constructor(spec: () => ConnectionSpec, timeout: number, onError?: (error: StateError) => void) {
    this.#spec = spec;
    this.#timeout = timeout;
    this.#onError = onError;
  }

  /**
   * Performs `request` synchronously.
   * @param what the operation as messages name it, e.g. `GET "key"`
   * @throws StateTimeoutError, RedisUnavailableError, RedisCommandError, SyncWorkerError, StateClosedError
   */
  call(request: BridgeRequest, what: string): Uint8Array | null {
    return this.#answer(request, what).bytes;
  }

  /**
   * `GET` and `PTTL` of `key` (a Redis key), synchronously, for the local layer.
   * @returns the bytes (`null` on a miss) and the key's remaining milliseconds (`-1`: no expiry, `-2`: gone)
   */
  getWithTtl(key: string, label: string, what: string): { readonly bytes: Uint8Array | null; readonly pttl: number } {
    const answer = this.#answer({ op: "getWithTtl", key, label }, what);
    return { bytes: answer.bytes, pttl: answer.pttl ?? -2 };
  }

  #answer(request: BridgeRequest, what: string): { readonly bytes: Uint8Array | null; readonly pttl?: number } {
    if (this.#closed) throw new StateClosedError("RedisState");
    let host = this.#host;
    if (host === undefined || host.dead) {
      host = WorkerHost.acquire();
      this.#host = host;
      if (this.#onError !== undefined) host.onDeath(this.#onError);
      host.post({ op: "open", conn: this.#conn, spec: this.#spec(), timeout: this.#timeout });
    }
    return host.call({ ...request, conn: this.#conn } as Parameters<WorkerHost["call"]>[0], what, this.#timeout);
  }

  /** Closes this state's connection in the worker and drops its hold on the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const host = this.#host;
    this.#host = undefined;
    if (host === undefined || host.dead) return;
    host.post({ op: "close", conn: this.#conn });
    await host.release();
  }
}
