import type { RedisArgument } from "redis";
import type { RedisClientLike } from "./client-types.js";
import { BUFFERS, type RedisConnection } from "./connection.js";
import { RedisCommandError } from "./errors.js";
import { CHECK_RECORDS, FENCED_SET, STAMP_RECORDS, UNLINK_IF_EQUAL, UNLOCK, type Script } from "./scripts.js";
import { toArgument, type FencedEntry, type RedisStep } from "./steps.js";

// The state's multi-command operations on one connection (scans, records, leases, scripts), and the
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
    case "set":
      return connection.set(toArgument(step.key), step.bytes, step.px, step.label);
    case "checkRecords":
      return checkRecords(connection, [...step.records, ...step.fences, step.epoch].map(toArgument), step.records.length, step.px, step.label);
    case "fencedSet":
      return (await fencedSets(connection, [step], step.epoch, step.label))[0];
    case "fencedSetMany":
      return fencedSets(connection, step.writes, step.epoch, step.label);
    case "stamp": {
      const keys = step.epoch === undefined ? step.records : [...step.records, step.epoch];
      const args = [String(step.retainMs), step.epoch === undefined ? "0" : "1"];
      await runScriptOn(connection, STAMP_RECORDS, keys.map(toArgument), args, step.label);
      return undefined;
    }
    case "clockOffset":
      return measureClockOffset(connection, toArgument(step.route), step.label);
    case "tagStamps":
      return tagStamps(connection, step.records.map(toArgument), step.label);
    case "deleteIfEqual":
      await runScript(connection, UNLINK_IF_EQUAL, toArgument(step.key), [toArgument(step.bytes)], step.label);
      return undefined;
    case "delete":
      return connection.delete(toArgument(step.key), step.label);
    case "clear":
      return clearMatching(connection, step.patterns.map(toArgument), step.label, onProgress, step.keep && toArgument(step.keep));
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
  keep?: RedisArgument,
): Promise<void> {
  const nodes = await connection.nodes("SCAN MATCH", label);
  const perKey = connection.isCluster;
  const kept = keep === undefined ? undefined : Buffer.from(keep);
  await Promise.all(
    nodes.flatMap((node) => patterns.map((pattern) => clearNode(connection, node, pattern, label, perKey, onProgress, kept))),
  );
}

async function clearNode(
  connection: RedisConnection,
  node: RedisClientLike,
  pattern: RedisArgument,
  label: string,
  perKey: boolean,
  onProgress: (() => void) | undefined,
  kept: Buffer | undefined,
): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = (await connection.run("SCAN MATCH", label, () =>
      node.sendCommand(["SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT], BUFFERS),
    )) as [Buffer, Buffer[]];
    cursor = next.toString("latin1");
    const keys = kept === undefined ? found : found.filter((key) => key.length < kept.length || key.compare(kept, 0, kept.length, 0, kept.length) !== 0);
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
 * Reads the records (creating missing tag records) before a write, in one script: the server's time
 * then, and each record's stamp (decimal microseconds; "" for a missing fence). `keys` are the
 * `tags` tag records, then the fences, then the state's tag epoch.
 */
async function checkRecords(
  connection: RedisConnection,
  keys: ReadonlyArray<RedisArgument>,
  tags: number,
  px: number | null,
  label: string,
): Promise<{ readonly now: string; readonly stamps: string[] }> {
  const args = [px === null ? "" : String(px), String(tags)];
  const reply = (await runScriptOn(connection, CHECK_RECORDS, keys, args, label)) as Buffer[];
  const [now, ...stamps] = reply.map((part) => part.toString("latin1"));
  return { now: now!, stamps };
}

/** Fenced writes on one server, in one script (FENCED_SET): whether each was stored. */
async function fencedSets(connection: RedisConnection, writes: ReadonlyArray<FencedEntry>, epoch: Uint8Array, label: string): Promise<boolean[]> {
  const keys: RedisArgument[] = [];
  const args: RedisArgument[] = [String(writes.length)];
  for (const write of writes) {
    keys.push(toArgument(write.key), ...write.records.map(toArgument), ...write.fences.map(toArgument));
    const value = Buffer.from(write.bytes.buffer, write.bytes.byteOffset, write.bytes.byteLength);
    const records = write.records.length + write.fences.length;
    args.push(value, write.px === null ? "" : String(write.px), write.start.toFixed(0), String(write.records.length), String(records));
  }
  keys.push(toArgument(epoch));
  const stored = (await runScriptOn(connection, FENCED_SET, keys, args, label)) as number[];
  return stored.map((flag) => flag === 1);
}

/** The stamps of tag records (`null`: missing): one `MGET` (all records share a cluster slot). */
async function tagStamps(connection: RedisConnection, records: ReadonlyArray<RedisArgument>, label: string): Promise<Array<string | null>> {
  const stamps = (await connection.send("MGET", label, records[0]!, true, ["MGET", ...records])) as Array<Buffer | null>;
  return stamps.map((stamp) => (stamp === null ? null : stamp.toString("latin1")));
}

/** `TIME` samples per clock measurement (the tightest one wins). */
const CLOCK_SAMPLES = 3;

/**
 * Measures the offset of the clock of the server holding `route` from this process's clock: server
 * microseconds minus local milliseconds × 1000, never above the true offset. The server read its
 * clock somewhere between sending and receiving, so `server - received` bounds the offset from
 * below, within the round trip; of {@link CLOCK_SAMPLES} sequential `TIME`s the largest bound wins.
 */
async function measureClockOffset(connection: RedisConnection, route: RedisArgument, label: string): Promise<number> {
  let best = -Infinity;
  for (let sample = 0; sample < CLOCK_SAMPLES; sample++) {
    const [seconds, micros] = (await connection.send("TIME", label, route, true, ["TIME"])) as [Buffer, Buffer];
    // Sub-millisecond, on the same scale as Date.now() (whose whole milliseconds would cost 1 ms).
    const received = performance.timeOrigin + performance.now();
    best = Math.max(best, Number(seconds.toString("latin1")) * 1_000_000 + Number(micros.toString("latin1")) - received * 1000);
  }
  return best;
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
  return runScriptOn(connection, script, [key], args, label);
}

/** Runs a script on `keys` (one cluster slot; routed by the first), as {@link runScript}. */
export function runScriptOn(
  connection: RedisConnection,
  script: Script,
  keys: ReadonlyArray<RedisArgument>,
  args: ReadonlyArray<RedisArgument>,
  label: string,
): Promise<unknown> {
  const first = keys[0]!;
  const tail = [String(keys.length), ...keys, ...args];
  return connection.whole(async () => {
    // The first use of a script on a connection sends its source: a server that does not know it
    // yet would answer EVALSHA with NOSCRIPT, one more round trip for every first write.
    if (!connection.scriptsSent.has(script.sha)) {
      const reply = await connection.send(`EVAL ${script.name}`, label, first, false, ["EVAL", script.source, ...tail]);
      connection.scriptsSent.add(script.sha);
      return reply;
    }
    try {
      return await connection.send(`EVALSHA ${script.name}`, label, first, false, ["EVALSHA", script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof RedisCommandError) || !/NOSCRIPT/.test(error.message)) throw error;
      return connection.send(`EVAL ${script.name}`, label, first, false, ["EVAL", script.source, ...tail]);
    }
  });
}
