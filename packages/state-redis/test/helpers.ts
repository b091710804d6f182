import type { RedisState } from "../src/index.js";

/**
 * The operation timeout of every state whose test is not about latency or timeouts: generous, so a
 * busy 2-core CI machine never turns a slow answer into a fail-open miss or a StateTimeoutError.
 */
export const RELAXED_TIMEOUT_MS = 2000;
/**
 * The timeout of the fault tests' states: they wait out many timeouts on purpose (a hung server), so
 * it stays short, yet well above the default for the calls made before the fault.
 */
export const FAULT_TIMEOUT_MS = 500;

/**
 * Makes one async and one synchronous call succeed, retrying while the state connects and the shared
 * worker thread starts and connects (on a loaded machine that can take longer than one operation's
 * timeout, and an app would simply see a few fail-open misses).
 */
export async function warmSync(state: RedisState, attempts = 50): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await state.get("warm-up");
      state.getSync("warm-up");
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Waits until `check` returns true, polling every 25 ms; throws after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
