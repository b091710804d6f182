import net from "node:net";

/**
 * Counts the network round trips of the Redis clients that connect through a relay of their own.
 * Redis has no round-trip counter (`INFO commandstats` counts commands: a pipeline of 100 commands
 * is 100 calls), and counting at a relay is racy (TCP splits one pipelined write into chunks, and the
 * server may answer the first chunk before the next arrives, which looks like a second round trip).
 * So the count is taken at the client's own sockets: a client round trip is a socket write that
 * follows data read on that socket (or its first write), i.e. the client sent again after hearing
 * back. Writes of one tick (a pipeline, corked or not) with no read between them are one round trip.
 * The relay (a plain TCP pass-through on its own port) marks which sockets to count: those whose
 * remote port is the relay's; the run's other clients, on the server's port, are left out.
 */
export interface RoundTripCounter {
  /** The relay's address: give it to the clients to be counted. */
  readonly port: number;
  readonly url: string;
  /** Round trips so far, summed over the counted sockets. */
  roundTrips(): number;
  /** Stops counting and closes the relay. */
  close(): Promise<void>;
}

const originalWrite = net.Socket.prototype.write;
const counters = new Set<{ port: number; add(): void }>();
/** Per counted socket: whether data was read since its last write. */
const readSinceWrite = new WeakMap<net.Socket, { value: boolean }>();

function countingWrite(this: net.Socket, ...args: unknown[]): boolean {
  for (const counter of counters) {
    if (this.remotePort !== counter.port) continue;
    let flag = readSinceWrite.get(this);
    if (flag === undefined) {
      const created = { value: true };
      readSinceWrite.set(this, (flag = created));
      this.on("data", () => (created.value = true));
    }
    if (flag.value) counter.add();
    flag.value = false;
  }
  return (originalWrite as (...a: unknown[]) => boolean).apply(this, args);
}

export async function startRoundTripCounter(target: { host: string; port: number }): Promise<RoundTripCounter> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      // A reset ends the connection and is reported by the client itself.
      socket.on("error", () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let roundTrips = 0;
  const counter = { port, add: () => void roundTrips++ };
  counters.add(counter);
  net.Socket.prototype.write = countingWrite as typeof net.Socket.prototype.write;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    roundTrips: () => roundTrips,
    close: () =>
      new Promise<void>((resolve) => {
        counters.delete(counter);
        if (counters.size === 0) net.Socket.prototype.write = originalWrite;
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `INFO commandstats` as calls per command (`get`, `mget`, `set`, `exec`…). */
export function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match !== null) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}
