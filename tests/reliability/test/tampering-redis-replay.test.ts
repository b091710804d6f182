import { randomBytes } from "node:crypto";
import { lua, PREFIX, setup, useRedisForTampering } from "./support/redis-tampering";

// A validly signed entry copied by someone with access to Redis from one key to another (here an
// admin's lookup over mallory's) must not be accepted: the entry MAC covers the key it is stored
// under, as the temp-file state's does (test/tampering-tempfile.test.ts).

useRedisForTampering();

it("a signed entry copied under another key (replay) is a miss, reported, never deserialized", async () => {
  const secret = randomBytes(32);
  const writer = setup(secret);
  await writer.lookup("admin");
  await writer.lookup("mallory");
  // Both entries are validly signed; the admin's is copied over mallory's, byte for byte.
  const copied = await lua(
    "local a, m for _, k in ipairs(redis.call('KEYS', ARGV[1])) do " +
      "if string.find(k, 'admin', 1, true) then a = k elseif string.find(k, 'mallory', 1, true) then m = k end end " +
      "return redis.call('COPY', a, m, 'REPLACE')",
    `${PREFIX}*`,
  );
  expect(copied).toBe(":1\r\n");

  const victim = setup(secret);
  expect(await victim.lookup("mallory")).toEqual({ id: "mallory", role: "user" });
  expect(victim.executions()).toBe(1);
  expect(victim.serializer.deserialized).toBe(0);
  expect(victim.reported.map((e) => e.constructor.name)).toEqual(["CorruptEntryError"]);
});
