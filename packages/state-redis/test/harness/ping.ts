import { connect } from "node:net";

/**
 * One raw `PING` over TCP, so the harness does not depend on the client under test.
 * Resolves with the first reply line (e.g. `+PONG`, or `-LOADING ...`), rejects on a connection error
 * or after `timeoutMs`.
 */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      // A bulk reply ($len\r\n...\r\n) needs its body; a status/error line is complete at \r\n.
      const complete = reply.startsWith("$") ? bulkComplete(reply) : reply.includes("\r\n");
      if (complete) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.write(`${command}\r\n`);
  });
}

function bulkComplete(reply: string): boolean {
  const headerEnd = reply.indexOf("\r\n");
  if (headerEnd < 0) return false;
  const length = Number(reply.slice(1, headerEnd));
  return length < 0 || Buffer.byteLength(reply) >= headerEnd + 2 + length + 2;
}

/** Polls until the server on `port` answers `PING` with `PONG`, or throws after `timeoutMs`. */
export async function waitForPong(port: number, timeoutMs = 10_000, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`redis-server on port ${port} exited before it answered PING`);
    try {
      if ((await rawCommand(port, "PING")).startsWith("+PONG")) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`, { cause: lastError });
}
