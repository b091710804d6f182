import { Config, MemoryState, Mime, type MimeOptions } from "../src/index";

// Compiled under `exactOptionalPropertyTypes` (tsconfig.base.json): options built from values that may
// be undefined (environment variables, optional settings) must type-check without casts.
test("every optional option accepts an explicit undefined", () => {
  const fromEnv = (name: string): string | undefined => process.env[name];
  const options: MimeOptions<[number]> = {
    ttl: fromEnv("MIMIC_TEST_TTL") === undefined ? undefined : 60,
    name: fromEnv("MIMIC_TEST_NAME"),
    version: fromEnv("MIMIC_TEST_VERSION"),
    state: undefined,
    key: undefined,
    tags: undefined,
    onError: undefined,
    strict: undefined,
    staleWhileRevalidate: undefined,
    staleIfError: undefined,
    lock: { lease: undefined, timeout: undefined },
    async: undefined,
    refreshAhead: undefined,
    timeout: undefined,
  };
  const double = Mime(options)((n: number) => n * 2);
  expect(double(2)).toBe(4);
  const config = new Config({ state: new MemoryState(), onError: undefined, strict: undefined });
  expect(config.strict).toBe(false);
});
