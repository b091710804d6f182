import { randomBytes } from "node:crypto";
import { CorruptEntryError } from "@mimic/core";
import { lua, PREFIX, setup, useRedisForTampering } from "./support/redis-tampering";

// Item 6 of the reliability issue, Redis: with a `secret`, entries are signed (HMAC-SHA256); a value
// changed in Redis, forged without the secret, or signed with another secret is a miss, reported as
// a CorruptEntryError, and its bytes are never deserialized. A signed entry copied under another key:
// test/tampering-redis-replay.test.ts.

useRedisForTampering();

it("a signed entry changed in Redis (a few payload bytes) is a miss, reported, never deserialized", async () => {
  const secret = randomBytes(32);
  const writer = setup(secret);
  expect(await writer.lookup("alice")).toEqual({ id: "alice", role: "user" });
  const reader = setup(secret);
  expect(await reader.lookup("alice")).toEqual({ id: "alice", role: "user" });
  expect(reader.executions()).toBe(0);
  expect(reader.serializer.deserialized).toBe(1);

  // "user" → "xser" inside the stored v8 payload.
  const changed = await lua(
    "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do local v = redis.call('GET', k) " +
      "local i = string.find(v, 'user', 1, true) if i then redis.call('SETRANGE', k, i - 1, 'x') n = n + 1 end end return n",
    `${PREFIX}*`,
  );
  expect(changed).toBe(":1\r\n");

  const victim = setup(secret);
  expect(await victim.lookup("alice")).toEqual({ id: "alice", role: "user" });
  expect(victim.executions()).toBe(1);
  expect(victim.serializer.deserialized).toBe(0);
  expect(victim.reported).toHaveLength(1);
  expect(victim.reported[0]).toBeInstanceOf(CorruptEntryError);
  expect(victim.reported[0]!.code).toBe("MIMIC_CORRUPT_ENTRY");
  // The call stored a fresh, signed entry over the tampered one.
  const after = setup(secret);
  expect(await after.lookup("alice")).toEqual({ id: "alice", role: "user" });
  expect(after.executions()).toBe(0);
});

it("an entry forged without the secret, or signed with another secret, is a miss, reported, never deserialized", async () => {
  const secret = randomBytes(32);
  for (const forgerSecret of [undefined, randomBytes(32)]) {
    const forger = setup(forgerSecret);
    const victim = setup(secret);
    await forger.state.set(victim.key("mallory"), { id: "mallory", role: "admin" }, null);
    expect(await forger.state.get(victim.key("mallory"))).toEqual({ value: { id: "mallory", role: "admin" } });

    expect(await victim.lookup("mallory")).toEqual({ id: "mallory", role: "user" });
    expect(victim.executions()).toBe(1);
    expect(victim.serializer.deserialized).toBe(0);
    expect(victim.reported.map((e) => e.constructor.name)).toEqual(["CorruptEntryError"]);
  }
});
