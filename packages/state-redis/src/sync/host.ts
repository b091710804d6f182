import { StateError, StateTimeoutError } from "@mimic/core";
import { existsSync } from "node:fs";
import path from "node:path";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { RedisCommandError, RedisUnavailableError, SyncWorkerError } from "../errors.js";
import {
  BOOTED,
  PROGRESS,
  SIGNAL,
  SIGNAL_SLOTS,
  WORKER_FILE,
  type CloseMessage,
  type OpenMessage,
  type SyncRequest,
  type SyncResponse,
  type TrackMessage,
  type UntrackMessage,
  type WireError,
  type WorkerInput,
} from "./protocol.js";

/** Slack on top of the operation timeout for the hop between threads. */
export const THREAD_MARGIN_MS = 100;
/**
 * Extra time a synchronous call may wait while the worker thread starts and loads node-redis
 * (typically 100–300 ms, more on a loaded machine). Paid once per process, by the first sync call.
 */
export const WORKER_BOOT_ALLOWANCE_MS = 3000;

/**
 * Finds the built worker. In `dist/` it sits next to the bundle (`__dirname` is shimmed in the ESM
 * build); when this module runs from `src/` (ts-jest), it is the package's `dist/` two levels up.
 */
function workerPath(): string {
  const candidates = [path.join(__dirname, WORKER_FILE), path.join(__dirname, "..", "..", "dist", WORKER_FILE)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw new SyncWorkerError(
      `the worker thread for synchronous Redis operations was not found (looked for ${candidates.join(" and ")}); ` +
        "build @mimic/state-redis (pnpm build) before using getSync/setSync",
    );
  }
  return found;
}

function fromWire(error: WireError, what: string, timeoutMs: number): StateError {
  switch (error.code) {
    case "MIMIC_STATE_TIMEOUT":
      return new StateTimeoutError(`Redis ${what}`, timeoutMs);
    case "MIMIC_REDIS_UNAVAILABLE":
      return new RedisUnavailableError(error.message);
    case "MIMIC_REDIS_COMMAND":
      return new RedisCommandError(error.message);
    default:
      return new StateError(error.message, { code: error.code });
  }
}

/**
 * Set when a worker died before it booted: starting another at once would most likely fail the same
 * way, so sync calls fail fast with this error for a while before the next attempt.
 */
let bootFailure: { readonly error: SyncWorkerError; readonly at: number } | undefined;
const BOOT_RETRY_AFTER_MS = 10_000;
/** The one worker thread of this process (of this copy of the module), while some state holds it. */
let current: WorkerHost | undefined;

/**
 * The worker thread behind every state's synchronous operations in this process: started by the first
 * sync call, unref'd (it never keeps the process alive), terminated when the last state using it
 * closes. Each state has its own connection inside it. The calling thread blocks in `Atomics.wait`,
 * always with a deadline, so a dead or hung worker or Redis cannot hang the process.
 */
export class WorkerHost {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flags: Int32Array;
  readonly #onDeath = new Set<(error: SyncWorkerError) => void>();
  #refs = 0;
  #nextId = 1;
  #dead = false;

  private constructor() {
    const signals = new SharedArrayBuffer(SIGNAL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.#flags = new Int32Array(signals);
    const { port1, port2 } = new MessageChannel();
    const input: WorkerInput = { signals, port: port2 };
    try {
      // execArgv: [] keeps loaders the parent may run under (tsx, ts-node) out of a plain-JS worker.
      this.#worker = new Worker(workerPath(), { workerData: input, transferList: [port2], execArgv: [] });
    } catch (error) {
      port1.close();
      if (error instanceof StateError) throw error;
      throw new SyncWorkerError(`could not start the worker thread for synchronous Redis operations: ${String(error)}`, {
        cause: error,
      });
    }
    this.#port = port1;
    // Neither the worker nor our end of the channel may keep the process alive.
    this.#worker.unref();
    this.#port.unref();
    this.#worker.on("error", (error: unknown) => this.#died(error));
    this.#worker.on("exit", (code) => this.#died(new Error(`the worker thread exited with code ${code}`)));
  }

  /** The running host (started if needed), with one more reference held by the caller. */
  static acquire(): WorkerHost {
    if (bootFailure !== undefined) {
      if (Date.now() - bootFailure.at < BOOT_RETRY_AFTER_MS) throw bootFailure.error;
      bootFailure = undefined;
    }
    if (current === undefined || current.#dead) current = new WorkerHost();
    current.#refs++;
    return current;
  }

  /** Whether the thread died; a state then acquires a new host and reopens its connection. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Calls `listener` if the thread dies (to report it). */
  onDeath(listener: (error: SyncWorkerError) => void): void {
    this.#onDeath.add(listener);
  }

  /** Posts a message that needs no answer (open/close a connection, start/end a tracking session). */
  post(message: OpenMessage | CloseMessage | TrackMessage | UntrackMessage): void {
    if (this.#dead) return;
    if (message.op === "track") this.#port.postMessage(message, [message.port]);
    else this.#port.postMessage(message);
  }

  /** Drops one reference; the last one terminates the thread. */
  async release(): Promise<void> {
    if (--this.#refs > 0 || this.#dead) return;
    this.#dead = true;
    if (current === this) current = undefined;
    this.#port.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#worker.terminate().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 1000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Performs `request` and returns the worker's answer (the step's result). Blocks the calling thread for at most `timeoutMs` + {@link THREAD_MARGIN_MS} (plus
   * {@link WORKER_BOOT_ALLOWANCE_MS} while the thread is still starting; a `clear` gets a fresh budget
   * after each round trip that makes progress).
   * @param what the operation as messages name it, e.g. `GET "key"`
   */
  call(request: Omit<SyncRequest, "id">, what: string, timeoutMs: number): unknown {
    if (this.#dead) throw new SyncWorkerError(`the worker thread for synchronous Redis operations is gone (${what})`);
    const flags = this.#flags;
    const port = this.#port;
    const booted = Atomics.load(flags, BOOTED) === 1;
    const id = this.#nextId++;
    const message = { ...request, id } as SyncRequest;
    port.postMessage(message, message.op === "set" ? [message.bytes.buffer as ArrayBuffer] : []);

    const budget = timeoutMs + THREAD_MARGIN_MS;
    let deadline = performance.now() + budget + (booted ? 0 : WORKER_BOOT_ALLOWANCE_MS);
    let progressSeen = Atomics.load(flags, PROGRESS);
    for (;;) {
      // Read the counter before draining: a response posted after the drain changes it, so the wait
      // below returns at once instead of missing the wake-up.
      const seen = Atomics.load(flags, SIGNAL);
      for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
        const response = received.message as SyncResponse;
        // Answers to earlier requests that timed out on this side arrive late: skip them.
        if (response.id !== id) continue;
        if (response.ok) return response.result;
        throw fromWire(response.error, what, timeoutMs);
      }
      const now = performance.now();
      const progress = Atomics.load(flags, PROGRESS);
      if (progress !== progressSeen) {
        // A long clear() is still moving: each round trip gets a fresh budget.
        progressSeen = progress;
        deadline = Math.max(deadline, now + budget);
      }
      const remaining = deadline - now;
      if (remaining <= 0) {
        const booting = Atomics.load(flags, BOOTED) !== 1;
        throw new StateTimeoutError(`Redis ${what} (sync${booting ? ", worker thread still starting" : ""})`, timeoutMs);
      }
      Atomics.wait(flags, SIGNAL, seen, remaining);
    }
  }

  #died(cause: unknown): void {
    if (this.#dead) return;
    this.#dead = true;
    if (current === this) current = undefined;
    this.#port.close();
    const booted = Atomics.load(this.#flags, BOOTED) === 1;
    const error = new SyncWorkerError(
      `the worker thread for synchronous Redis operations ${booted ? "died" : "failed to start"}: ${
        cause instanceof Error ? cause.message : String(cause)
      }${booted ? "; the next synchronous call starts a new one" : ""}`,
      { cause },
    );
    if (!booted) bootFailure = { error, at: Date.now() };
    for (const listener of this.#onDeath) {
      try {
        listener(error);
      } catch {
        // reporting must not throw out of an event handler
      }
    }
  }
}
