import { readFileSync } from "node:fs";
import { createServer } from "node:net";

// Test servers get ports *below* the kernel's ephemeral range, never from it (as `listen(0)` would
// give). Outgoing connections take their source port from that range, so a client that keeps
// reconnecting to a port of the range where nothing listens (a killed server before its restart, a
// "dead" port of a failure test) eventually draws the destination port itself as its source port:
// TCP then connects the socket to itself (simultaneous open). The client reads its own commands back
// as replies, and the restarted server finds its port taken. On this machine that took a few
// thousand attempts; a test run makes that many.

/** The lowest port handed out. Below it lie well-known service ports. */
const LOWEST = 15_000;
/** The kernel's ephemeral range if it does not say (Linux's default). */
const DEFAULT_EPHEMERAL = { low: 32_768, high: 60_999 };
/** Random picks tried before giving up (each probe binds the port to see that it is free). */
const ATTEMPTS = 50;

/** The range the kernel takes the source ports of outgoing connections from. */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return { low: low!, high: high! };
  } catch {
    // not Linux: keep the default
  }
  return DEFAULT_EPHEMERAL;
}

/** Where test ports are drawn from: below the ephemeral range, or above it if there is no room below. */
function testPortRange(): { from: number; to: number } {
  const { low, high } = ephemeralRange();
  if (low - LOWEST >= 1000) return { from: LOWEST, to: low - 1 };
  if (65_535 - high >= 1000) return { from: high + 1, to: 65_535 };
  throw new Error(`the ephemeral port range ${low}–${high} leaves no room for test servers outside it`);
}

/** Whether nobody listens on `port` of 127.0.0.1 (by binding it for a moment). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port of 127.0.0.1 that nobody listens on, outside the kernel's ephemeral range (see above).
 * Another process may take it before use: callers that bind it retry with another port.
 */
export async function freePort(): Promise<number> {
  const range = testPortRange();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = range.from + Math.floor(Math.random() * (range.to - range.from + 1));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port found in ${range.from}–${range.to} after ${ATTEMPTS} attempts`);
}
