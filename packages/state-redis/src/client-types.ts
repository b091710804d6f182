import type { RedisArgument, TypeMapping } from "redis";

/** The command options Mimic passes to node-redis (only the reply type mapping). */
export interface RedisCommandOptionsLike {
  /** How RESP replies map to JavaScript values; Mimic asks for `Buffer`s. */
  typeMapping?: TypeMapping;
}

/**
 * What the state uses of a node-redis client (`createClient()` from `redis` 5): any client, whatever its
 * modules, scripts or RESP version, fits.
 */
export interface RedisClientLike {
  /** Whether `connect()` was called and the client was not closed since. */
  readonly isOpen: boolean;
  /** Whether the connection is up and commands can be sent now. */
  readonly isReady: boolean;
  /** Opens the connection. */
  connect(): Promise<unknown>;
  /** Sends a raw command. */
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: RedisCommandOptionsLike): Promise<unknown>;
  /** The options the client was created with; the sync worker opens its own connection from them. */
  readonly options?: object | undefined;
}

/** A cluster master as node-redis describes it. */
export interface RedisClusterMasterLike {
  /** The master's host. */
  readonly host: string;
  /** The master's port. */
  readonly port: number;
}

/** What the state uses of a node-redis cluster (`createCluster()` from `redis` 5). */
export interface RedisClusterLike {
  /** Whether `connect()` was called and the cluster was not closed since. */
  readonly isOpen: boolean;
  /** Discovers the topology and connects to the masters. */
  connect(): Promise<unknown>;
  /** Sends a raw command to the node owning `firstKey`. */
  sendCommand(
    firstKey: RedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<RedisArgument>,
    options?: RedisCommandOptionsLike,
  ): Promise<unknown>;
  /** The current masters; `clear()` scans each of them. */
  readonly masters: ReadonlyArray<RedisClusterMasterLike>;
  /** The client connected to one node. */
  nodeClient(node: RedisClusterMasterLike): Promise<RedisClientLike>;
  /** The options the cluster was created with; the sync worker opens its own cluster connection from them. */
  readonly _options?: object | undefined;
}

/** The extra members used on a client or cluster the state created itself (and so closes). */
export interface Owned {
  /** Closes the connection(s) at once, rejecting whatever is pending. */
  destroy(): void;
  /** node-redis's EventEmitter `on`. */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}
