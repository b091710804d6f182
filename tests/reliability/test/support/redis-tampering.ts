import { deserialize, serialize } from "node:v8";
import { Mime, type MimicError, type Serializer } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { rawCommand, startRedisServer, type RedisServerHandle } from "../../../../packages/state-redis/test/harness";

// The Redis side of the tampering tests (item 6): a server per test file, states with or without a
// `secret` on one prefix, a memoized lookup whose executions, reported errors and deserializations
// are counted, and Lua run on the server to change bytes there, as an attacker with access to Redis would.

let server: RedisServerHandle;
const states: RedisState[] = [];

/** Registers the hooks: a server for the file, every state closed after it, the prefix emptied before each test. */
export function useRedisForTampering(): void {
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await Promise.all(states.splice(0).map((state) => state.close()));
    await server.stop();
  });
  beforeEach(async () => {
    expect(await lua("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", `${PREFIX}*`)).toBe(":1\r\n");
  });
}

export const PREFIX = "reliability:tamper:";

/** v8, counting deserializations: a tampered entry must be rejected before its bytes are decoded. */
function countingSerializer(): Serializer & { deserialized: number } {
  const serializer = {
    name: "v8",
    deserialized: 0,
    serialize: (value: unknown) => serialize(value),
    deserialize: (bytes: Uint8Array) => {
      serializer.deserialized++;
      return deserialize(bytes);
    },
  };
  return serializer;
}

/** A state on the test prefix (signed with `secret` if given) and a memoized lookup on it, with counters. */
export function setup(secret: string | Buffer | undefined) {
  const serializer = countingSerializer();
  const state = new RedisState({ url: server.url, prefix: PREFIX, serializer, ...(secret === undefined ? {} : { secret }) });
  states.push(state);
  const reported: MimicError[] = [];
  let executions = 0;
  const memo = Mime({ state, name: "reliability.tamper.lookup", onError: (error) => void reported.push(error) })(
    async (id: string) => (executions++, { id, role: id === "admin" ? "admin" : "user" }),
  );
  return {
    state,
    serializer,
    reported,
    lookup: (id: string) => memo(id),
    key: (id: string) => memo.key(id),
    executions: () => executions,
  };
}

/** Runs a Lua script on the server through a raw connection; resolves with the reply line. */
export function lua(script: string, ...args: string[]): Promise<string> {
  const quoted = [script, ...args].map((part) => `"${part.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  return rawCommand(server.port, `EVAL ${quoted[0]} 0 ${quoted.slice(1).join(" ")}`, 2000);
}

