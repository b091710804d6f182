/**
 * The few test-framework globals the suite registers tests with. They are read from `globalThis`
 * when the suite is described, instead of importing `@jest/globals`, so the suite works in a user's
 * own jest setup (whatever jest version or preset injects them), and so that the published types do
 * not depend on `@types/jest`.
 */
export type TestBody = () => Promise<void> | void;

export interface TestGlobals {
  describe(name: string, body: () => void): void;
  test(name: string, body: TestBody, timeout?: number): void;
  afterEach(body: TestBody, timeout?: number): void;
}

/**
 * @throws Error when called outside a test file (no global `describe`, `test` and `afterEach`),
 *   e.g. with jest's `injectGlobals: false`.
 */
export function testGlobals(): TestGlobals {
  const scope = globalThis as Partial<Record<keyof TestGlobals, unknown>>;
  const { describe, test, afterEach } = scope;
  if (typeof describe !== "function" || typeof test !== "function" || typeof afterEach !== "function") {
    throw new Error(
      "describeStateConformance must be called at the top level of a jest test file: it registers tests with " +
        "the global describe, test and afterEach, which are missing here (is injectGlobals turned off?)",
    );
  }
  return {
    describe: describe as TestGlobals["describe"],
    test: test as TestGlobals["test"],
    afterEach: afterEach as TestGlobals["afterEach"],
  };
}
