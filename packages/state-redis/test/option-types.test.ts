import { RedisState, type RedisStateOptions } from "../src/index";

// Compiled under exactOptionalPropertyTypes (tsconfig.base.json): options read from the environment,
// as the README writes them, type-check without casts.
test("every optional option accepts an explicit undefined", async () => {
  const options: RedisStateOptions = {
    url: process.env.MIMIC_TEST_UNSET_REDIS_URL ?? "redis://127.0.0.1:1",
    secret: process.env.MIMIC_CACHE_SECRET_UNSET,
    prefix: undefined,
    serializer: undefined,
    timeout: undefined,
    onError: undefined,
    client: undefined,
    local: { maxEntries: undefined, maxBytes: undefined, ttl: undefined, policy: undefined },
  };
  const state = new RedisState(options);
  expect(state.localStats()).toEqual(expect.objectContaining({ entries: 0 }));
  await state.close();
});
