/**
 * Test harness: real `redis-server` processes on free ports of 127.0.0.1, never the machine's own Redis.
 * Shared by this package's tests, the benchmarks and the reliability tests (import it by relative path).
 */
export { startRedisServer, type RedisServerHandle, type StartRedisServerOptions } from "./server.js";
export { startRedisCluster, type RedisClusterHandle } from "./cluster.js";
export { freePort } from "./ports.js";
export { rawCommand } from "./ping.js";
export { commandCalls, connectRawClient, type RawClient } from "./raw-client.js";
