// The worker-thread half of the local layer: one tracking session per state, with a RESP3 connection
// per Redis node (per master of a cluster) in broadcast tracking mode on the state's prefix. It tells
// the calling thread, on the session's port, what Redis invalidates and whether tracking holds.
import { createOwnedClient, createOwnedCluster, type ConnectionSpec, type OwnedCluster } from "../connection-spec.js";
import { heldKeyOf, tagIdOfRecordKey } from "../keys.js";
import type { TrackingEvent, TrackMessage } from "../sync/protocol.js";
import type { MessagePort } from "node:worker_threads";

/**
 * How often each tracking connection is checked with `PING`. A connection that does not answer within
 * the check's bound is treated as lost (the layer is dropped) until it answers again: this bounds how
 * long a silently broken connection (a network partition) could hide invalidations.
 */
export const HEARTBEAT_MS = 500;
/** The least time a heartbeat `PING` is given, whatever the state's timeout. */
const MIN_HEARTBEAT_TIMEOUT_MS = 500;

/** The members of a node-redis RESP3 client the tracker uses. */
interface TrackingClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  sendCommand(args: readonly string[]): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** What a RESP3 client needs on top of the state's own options: invalidation pushes as events. */
const RESP3_TRACKING = { RESP: 3, emitInvalidate: true } as const;

interface TrackedNode {
  readonly address: string;
  readonly client: TrackingClient;
  /** `CLIENT TRACKING ON BCAST` acknowledged since the connection was (re)established. */
  enabled: boolean;
  /** The last heartbeat failed; cleared by the next one that succeeds. */
  suspect: boolean;
}

class TrackingSession {
  readonly #spec: ConnectionSpec;
  readonly #prefix: string;
  readonly #prefixBytes: Buffer;
  readonly #port: MessagePort;
  readonly #posted: Int32Array;
  readonly #pingTimeout: number;
  readonly #nodes = new Map<string, TrackedNode>();
  readonly #timer: NodeJS.Timeout;
  #discovery: OwnedCluster | undefined;
  #on = false;
  #closed = false;
  #ticking = false;
  #pendingKeys: string[] = [];

  constructor(message: TrackMessage) {
    this.#spec = message.spec;
    this.#prefix = message.prefix;
    this.#prefixBytes = Buffer.from(message.prefix, "utf8");
    this.#port = message.port;
    this.#posted = new Int32Array(message.signals);
    this.#pingTimeout = Math.max(message.timeout, MIN_HEARTBEAT_TIMEOUT_MS);
    this.#timer = setInterval(() => void this.#tick(), HEARTBEAT_MS);
    void this.#tick();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const node of this.#nodes.values()) destroy(node.client);
    this.#nodes.clear();
    if (this.#discovery !== undefined) destroy(this.#discovery);
    this.#port.close();
  }

  #post(event: TrackingEvent): void {
    if (this.#closed) return;
    this.#port.postMessage(event);
    // After the message: the calling thread reads this counter, then drains the port.
    Atomics.add(this.#posted, 0, 1);
  }

  /** Every heartbeat: keeps the set of nodes right, checks each, and says "on" once all hold tracking. */
  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      await this.#reconcileNodes();
      await Promise.all([...this.#nodes.values()].map((node) => this.#check(node)));
      this.#announce();
    } finally {
      this.#ticking = false;
    }
  }

  async #reconcileNodes(): Promise<void> {
    if (this.#spec.kind === "client") {
      if (this.#nodes.size === 0) {
        this.#add("server", createOwnedClient({ ...this.#spec.options, ...RESP3_TRACKING }) as unknown as TrackingClient);
      }
      return;
    }
    // A cluster: one tracking connection per master, found (and re-read at every heartbeat) through a
    // cluster connection of the session's own.
    if (this.#discovery === undefined) {
      this.#discovery = createOwnedCluster(this.#spec.options);
      // Its failures show as the layer staying off; an unheard error event would end the thread.
      this.#discovery.on("error", () => undefined);
    }
    const discovery = this.#discovery;
    if (!discovery.isOpen) {
      try {
        await discovery.connect();
      } catch {
        return; // retried at the next heartbeat; the layer stays off meanwhile
      }
    }
    const masters = discovery.masters;
    const addresses = new Set(masters.map((master) => `${master.host}:${master.port}`));
    for (const [address, node] of this.#nodes) {
      if (addresses.has(address)) continue;
      this.#nodes.delete(address);
      destroy(node.client);
      this.#lose(`cluster node ${address} is no longer a master`);
    }
    for (const master of masters) {
      const address = `${master.host}:${master.port}`;
      if (this.#nodes.has(address)) continue;
      try {
        const nodeClient = (await discovery.nodeClient(master)) as unknown as { duplicate(overrides: object): TrackingClient };
        if (this.#closed || this.#nodes.has(address)) return;
        this.#lose(`new cluster master ${address}`);
        this.#add(address, nodeClient.duplicate(RESP3_TRACKING));
      } catch {
        return; // retried at the next heartbeat
      }
    }
  }

  #add(address: string, client: TrackingClient): void {
    const node: TrackedNode = { address, client, enabled: false, suspect: false };
    this.#nodes.set(address, node);
    client.on("invalidate", (key: Buffer | null) => this.#invalidated(key));
    client.on("ready", () => void this.#enable(node));
    client.on("error", () => this.#down(node, "connection error"));
    client.on("reconnecting", () => this.#down(node, "reconnecting"));
    client.on("end", () => this.#down(node, "connection closed"));
    client.connect().catch(() => this.#down(node, "connection refused"));
  }

  /** Switches the node's connection to broadcast tracking of the prefix (after each (re)connection). */
  async #enable(node: TrackedNode): Promise<void> {
    node.enabled = false;
    try {
      // node-redis turns plain tracking on while connecting (emitInvalidate); broadcast mode can only
      // be entered from "off". This connection reads nothing, so plain mode tracked nothing meanwhile.
      await node.client.sendCommand(["CLIENT", "TRACKING", "OFF"]);
      await node.client.sendCommand(["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", this.#prefix]);
      if (this.#nodes.get(node.address) !== node) return;
      node.enabled = true;
      node.suspect = false;
      this.#announce();
    } catch {
      this.#down(node, "CLIENT TRACKING failed");
    }
  }

  /** Heartbeat of one node; reconnects a client whose first connection failed for good. */
  async #check(node: TrackedNode): Promise<void> {
    if (!node.client.isOpen) {
      node.client.connect().catch(() => undefined);
      return;
    }
    if (!node.enabled) return;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      node.client.sendCommand(["PING"]).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.#pingTimeout))),
    ]);
    clearTimeout(timer);
    if (answered) {
      // Every invalidation Redis queued before this reply has been handled (one connection, in order).
      node.suspect = false;
    } else {
      node.suspect = true;
      this.#lose(`no answer to PING within ${this.#pingTimeout} ms`);
    }
  }

  #down(node: TrackedNode, reason: string): void {
    node.enabled = false;
    this.#lose(`${reason} (${node.address})`);
  }

  /** Tracking no longer covers everything: the calling thread drops its layer and stops filling it. */
  #lose(reason: string): void {
    this.#flushKeys();
    if (!this.#on) return;
    this.#on = false;
    this.#post({ kind: "off", reason });
  }

  #announce(): void {
    if (this.#on || this.#closed || this.#nodes.size === 0) return;
    for (const node of this.#nodes.values()) if (!node.enabled || node.suspect) return;
    if (this.#spec.kind === "cluster" && this.#nodes.size !== this.#discovery?.masters.length) return;
    this.#on = true;
    this.#post({ kind: "on" });
  }

  #invalidated(key: Buffer | null): void {
    if (key === null) {
      this.#flushKeys();
      this.#post({ kind: "flush" });
      return;
    }
    const tag = tagIdOfRecordKey(this.#prefixBytes, key);
    if (tag !== undefined) {
      // Rare (an invalidation): posted at once, after the keys queued before it.
      this.#flushKeys();
      this.#post({ kind: "tags", tags: [tag] });
      return;
    }
    const held = heldKeyOf(this.#prefixBytes, key);
    if (held === undefined) return;
    // One message per burst of keys: the pushes of a burst arrive in one socket read.
    if (this.#pendingKeys.length === 0) queueMicrotask(() => this.#flushKeys());
    this.#pendingKeys.push(held);
  }

  #flushKeys(): void {
    if (this.#pendingKeys.length === 0) return;
    const keys = this.#pendingKeys;
    this.#pendingKeys = [];
    this.#post({ kind: "keys", keys });
  }
}

function destroy(client: { destroy(): void }): void {
  try {
    client.destroy();
  } catch {
    // never connected, or closed already
  }
}

const sessions = new Map<number, TrackingSession>();

/** Starts the session a `track` message asks for. */
export function startTracking(message: TrackMessage): void {
  sessions.get(message.session)?.close();
  sessions.set(message.session, new TrackingSession(message));
}

/** Ends a session and closes its connections. */
export function stopTracking(session: number): void {
  sessions.get(session)?.close();
  sessions.delete(session);
}
