// Entry point of the worker thread behind RedisState's synchronous operations. It holds one Redis
// connection per state and answers one message per request; the calling thread blocks on Atomics.wait
// meanwhile.
import { workerData } from "node:worker_threads";
import { RedisConnection } from "../connection.js";
import {
  BOOTED,
  PROGRESS,
  SIGNAL,
  type SyncRequest,
  type SyncResponse,
  type ToWorker,
  type WireError,
  type WorkerInput,
} from "./protocol.js";

const { signals, port } = workerData as WorkerInput;
const flags = new Int32Array(signals);
const connections = new Map<number, RedisConnection>();

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

async function perform(request: SyncRequest): Promise<Uint8Array | null> {
  const connection = connections.get(request.conn);
  if (connection === undefined) throw new Error(`no connection ${request.conn} in the worker thread`);
  switch (request.op) {
    case "get": {
      const bytes = await connection.get(request.key, request.label);
      // A reply may be a slice of a larger socket buffer: copy it into its own buffer to transfer.
      return bytes === null ? null : new Uint8Array(bytes);
    }
    case "set":
      await connection.set(request.key, request.bytes, request.px, request.label);
      return null;
    case "delete":
      await connection.delete(request.key, request.label);
      return null;
    case "clear":
      await connection.clear(request.pattern, () => wake(PROGRESS));
      return null;
  }
}

function answer(request: SyncRequest): void {
  perform(request).then(
    (bytes) => {
      const response: SyncResponse = { id: request.id, ok: true, bytes };
      port.postMessage(response, bytes === null ? [] : [bytes.buffer as ArrayBuffer]);
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
    case "open": {
      const connection = RedisConnection.fromSpec(message.spec, { timeout: message.timeout });
      connections.set(message.conn, connection);
      // Connect while the first request is on its way.
      connection.warmUp();
      return;
    }
    case "close": {
      const connection = connections.get(message.conn);
      connections.delete(message.conn);
      void connection?.close();
      return;
    }
    default:
      answer(message);
  }
});

// node-redis is loaded: from now on the calling thread's budget is the plain operation timeout.
Atomics.store(flags, BOOTED, 1);
wake(SIGNAL);
