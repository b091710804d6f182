import { StateClosedError, type StateError } from "@mimic/core";
import type { ConnectionSpec } from "../connection-spec.js";
import { WorkerHost } from "./host.js";
import type { RedisStep } from "../steps.js";

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
   * Performs one step of an operation synchronously, in the worker thread.
   * @param what the operation as messages name it, e.g. `GET "key"`
   * @returns the step's result, as {@link RedisStep} documents it
   * @throws StateTimeoutError, RedisUnavailableError, RedisCommandError, SyncWorkerError, StateClosedError
   */
  call(step: Exclude<RedisStep, { readonly op: "settleWrites" }>, what: string): unknown {
    if (this.#closed) throw new StateClosedError("RedisState");
    let host = this.#host;
    if (host === undefined || host.dead) {
      host = WorkerHost.acquire();
      this.#host = host;
      if (this.#onError !== undefined) host.onDeath(this.#onError);
      host.post({ op: "open", conn: this.#conn, spec: this.#spec(), timeout: this.#timeout });
    }
    return host.call({ ...step, conn: this.#conn }, what, this.#timeout);
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
