// Entry point of the worker thread behind RedisState's synchronous operations. It holds one Redis
// connection per state and answers one message per request; the calling thread blocks on Atomics.wait
// meanwhile.
import { workerData } from "node:worker_threads";
import { performStep } from "../commands.js";
import { RedisConnection } from "../connection.js";
import { startTracking, stopTracking } from "../local/tracker.js";
import {
  BOOTED,
  PROGRESS,
  SIGNAL,
  type OpenMessage,
  type SyncRequest,
  type SyncResponse,
  type ToWorker,
  type WireError,
  type WorkerInput,
} from "./protocol.js";

const { signals, port } = workerData as WorkerInput;
const flags = new Int32Array(signals);

/**
 * States that reach the same Redis with the same timeout share one connection here (a test suite or an
 * app may create many states; each would otherwise pay for its own connect, a whole cluster discovery
 * for a cluster).
 */
interface Pooled {
  readonly poolKey: string;
  readonly connection: RedisConnection;
  refs: number;
}
const pool = new Map<string, Pooled>();
const connections = new Map<number, Pooled>();

function open(message: OpenMessage): void {
  const poolKey = `${message.timeout}|${JSON.stringify(message.spec)}`;
  let pooled = pool.get(poolKey);
  if (pooled === undefined) {
    pooled = { poolKey, connection: RedisConnection.fromSpec(message.spec, { timeout: message.timeout }), refs: 0 };
    pool.set(poolKey, pooled);
    // Connect while the first request is on its way.
    pooled.connection.warmUp();
  }
  pooled.refs++;
  connections.set(message.conn, pooled);
}

function close(conn: number): void {
  const pooled = connections.get(conn);
  connections.delete(conn);
  if (pooled === undefined || --pooled.refs > 0) return;
  pool.delete(pooled.poolKey);
  void pooled.connection.close();
}

function wake(slot: number): void {
  if (slot !== SIGNAL) Atomics.add(flags, slot, 1);
  Atomics.add(flags, SIGNAL, 1);
  Atomics.notify(flags, SIGNAL);
}

function toWire(error: unknown): WireError {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === "string" && code.startsWith("MIMIC_") ? code : "MIMIC_STATE_ERROR",
    message: error instanceof Error ? error.message : String(error),
  };
}

/** A reply may be a slice of a larger socket buffer: copy it into its own buffer, to transfer. */
function own(bytes: Uint8Array | null): Uint8Array | null {
  return bytes === null ? null : new Uint8Array(bytes);
}

async function perform(request: SyncRequest): Promise<unknown> {
  const connection = connections.get(request.conn)?.connection;
  if (connection === undefined) throw new Error(`no connection ${request.conn} in the worker thread`);
  const result = await performStep(connection, request, () => wake(PROGRESS));
  if (request.op === "get") return own(result as Uint8Array | null);
  if (request.op === "getWithTtl") {
    const [bytes, pttl] = result as readonly [Uint8Array | null, number];
    return [own(bytes), pttl];
  }
  // Stamps, times and flags are plain data (cloned); writes and deletes answer nothing.
  return result ?? null;
}

function transferables(result: unknown): ArrayBuffer[] {
  if (result instanceof Uint8Array) return [result.buffer as ArrayBuffer];
  if (Array.isArray(result) && result[0] instanceof Uint8Array) return [result[0].buffer as ArrayBuffer];
  return [];
}

function answer(request: SyncRequest): void {
  perform(request).then(
    (result) => {
      const response: SyncResponse = { id: request.id, ok: true, result };
      port.postMessage(response, transferables(result));
      wake(SIGNAL);
    },
    (error: unknown) => {
      const response: SyncResponse = { id: request.id, ok: false, error: toWire(error) };
      port.postMessage(response);
      wake(SIGNAL);
    },
  );
}

port.on("message", (message: ToWorker) => {
  switch (message.op) {
    case "open":
      open(message);
      return;
    case "close":
      close(message.conn);
      return;
    case "track":
      startTracking(message);
      return;
    case "untrack":
      stopTracking(message.session);
      return;
    default:
      answer(message);
  }
});

// node-redis is loaded: from now on the calling thread's budget is the plain operation timeout.
Atomics.store(flags, BOOTED, 1);
wake(SIGNAL);
