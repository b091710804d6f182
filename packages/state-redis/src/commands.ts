import type { RedisArgument } from "redis";
import type { RedisClientLike } from "./client-types.js";
import { BUFFERS, type RedisConnection } from "./connection.js";
import { RedisCommandError } from "./errors.js";
import { ADD_TO_TAG, UNLINK_IF_TAGGED, UNLOCK, type Script } from "./scripts.js";
import { toArgument, type RedisStep } from "./steps.js";

// The state's multi-command operations on one connection (scans, tag sets, leases, scripts), and the
// executor of a step, shared by the calling thread's async driver and the worker thread.

/** Keys per `SCAN` round trip (a hint to Redis) and so per `UNLINK`. */
const SCAN_COUNT = "1000";

/**
 * Carries out one step on `connection`: the result {@link RedisStep} documents for its op. A
 * `settleWrites` step has nothing to do here (the state's async driver handles it).
 * @param onProgress called after each round trip of a long `clear`
 */
export async function performStep(connection: RedisConnection, step: RedisStep, onProgress?: () => void): Promise<unknown> {
  switch (step.op) {
    case "get":
      return connection.get(toArgument(step.key), step.label);
    case "getWithTtl":
      return connection.getWithTtl(step.key, step.label);
    case "set": {
      const key = toArgument(step.key);
      if (step.tagKeys.length === 0) return connection.set(key, step.bytes, step.px, step.label);
      return setTagged(connection, key, step.bytes, step.px, step.tagKeys.map(toArgument), step.label);
    }
    case "delete":
      return connection.delete(toArgument(step.key), step.label);
    case "clear":
      return clearMatching(connection, step.patterns.map(toArgument), step.label, onProgress);
    case "settleWrites":
      return undefined;
  }
}

/**
 * Removes every key matching any of `patterns` with `SCAN` + `UNLINK`, on every master of a
 * cluster; never `FLUSHDB`. Each round trip is bounded by the timeout; `onProgress` runs after each
 * one. `label` names the operation in messages.
 */
export async function clearMatching(
  connection: RedisConnection,
  patterns: ReadonlyArray<RedisArgument>,
  label: string,
  onProgress?: () => void,
): Promise<void> {
  const nodes = await connection.nodes("SCAN MATCH", label);
  const perKey = connection.isCluster;
  await Promise.all(
    nodes.flatMap((node) => patterns.map((pattern) => clearNode(connection, node, pattern, label, perKey, onProgress))),
  );
}

async function clearNode(
  connection: RedisConnection,
  node: RedisClientLike,
  pattern: RedisArgument,
  label: string,
  perKey: boolean,
  onProgress: (() => void) | undefined,
): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = (await connection.run("SCAN MATCH", label, () =>
      node.sendCommand(["SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT], BUFFERS),
    )) as [Buffer, Buffer[]];
    cursor = next.toString("latin1");
    if (keys.length > 0) {
      // In a cluster, keys of one node may still hash to different slots, and a multi-key command
      // across slots is refused (CROSSSLOT): unlink them one by one (node-redis pipelines them).
      await connection.run("UNLINK keys matching", label, () =>
        perKey ? Promise.all(keys.map((key) => node.sendCommand(["UNLINK", key]))) : node.sendCommand(["UNLINK", ...keys]),
      );
    }
    onProgress?.();
  } while (cursor !== "0");
}

/**
 * Stores an entry and lists it in the set of each of its tags (`tagKeys`), first the sets, then the
 * entry, so that no tagged entry is ever stored outside its sets. Each set lives at least as long as
 * the entry. In a cluster every command is routed by its own key (no multi-key command).
 */
export async function setTagged(
  connection: RedisConnection,
  redisKey: RedisArgument,
  bytes: Uint8Array,
  px: number | null,
  tagKeys: ReadonlyArray<RedisArgument>,
  label: string,
): Promise<void> {
  const member = typeof redisKey === "string" ? redisKey : Buffer.from(redisKey);
  await connection.whole(async () => {
    await Promise.all(
      tagKeys.map((tagKey) => runScript(connection, ADD_TO_TAG, tagKey, [member, px === null ? "" : String(px)], label)),
    );
    await connection.set(redisKey, bytes, px, label);
  });
}

/**
 * Removes the entries listed in the tag set `tagKey` that still carry `tag` (their header says so,
 * checked on the server), taking the members out of the set as it goes (`SPOP`): a key added by a
 * write running meanwhile stays listed for the next invalidation.
 * @returns the Redis keys the set listed (each now removed, unless it no longer carried the tag)
 */
export function invalidateTag(connection: RedisConnection, tagKey: RedisArgument, tag: Buffer, label: string): Promise<Buffer[]> {
  return connection.whole(async () => {
    const listed: Buffer[] = [];
    for (;;) {
      const members = (await connection.send("SPOP", label, tagKey, false, ["SPOP", tagKey, SCAN_COUNT])) as Buffer[] | null;
      if (members === null || members.length === 0) return listed;
      await Promise.all(members.map((member) => runScript(connection, UNLINK_IF_TAGGED, member, [tag], label)));
      listed.push(...members);
      if (members.length < Number(SCAN_COUNT)) return listed;
    }
  });
}

/** `SET lease token NX PX ms`: whether the lease was free and is now held with `token`. */
export async function takeLease(connection: RedisConnection, lease: RedisArgument, token: string, px: number, label: string): Promise<boolean> {
  const reply = await connection.send("SET NX", label, lease, false, ["SET", lease, token, "NX", "PX", String(px)]);
  return reply !== null;
}

/** Deletes `lease` only if it still holds `token` (a Lua compare-and-delete). */
export async function releaseLease(connection: RedisConnection, lease: RedisArgument, token: string, label: string): Promise<void> {
  await runScript(connection, UNLOCK, lease, [token], label);
}

/** Runs a one-key script with `EVALSHA`, sending its source (`EVAL`) if the server does not know it. */
export function runScript(
  connection: RedisConnection,
  script: Script,
  key: RedisArgument,
  args: ReadonlyArray<RedisArgument>,
  label: string,
): Promise<unknown> {
  return connection.whole(async () => {
    try {
      return await connection.send(`EVALSHA ${script.name}`, label, key, false, ["EVALSHA", script.sha, "1", key, ...args]);
    } catch (error) {
      if (!(error instanceof RedisCommandError) || !/NOSCRIPT/.test(error.message)) throw error;
      return connection.send(`EVAL ${script.name}`, label, key, false, ["EVAL", script.source, "1", key, ...args]);
    }
  });
}
