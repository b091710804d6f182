import { hang } from "../test/support/redis-scenarios";

// Pending: fails until @mimic/core stops making a call wait for the state's write after a miss.
//
// Item 2 of the reliability issue: while Redis hangs (SIGSTOP), calls must return within the state's
// timeout + the function's time. They take about twice the timeout instead: the GET times out
// (200 ms), the function runs (5 ms), then `settle` in packages/core/src/memoize.ts awaits the SET,
// which times out too (200 ms), before the caller gets the value. Measured: every call during the
// pause takes ≈ 408 ms and waits for two timeouts (both are reported to onError before it returns).
// test/redis-faults.test.ts checks everything else of item 2.

// The bound (support/redis-scenarios.ts) is timeout + function time + a 100 ms margin, checked on
// latencies from which the stalls of the machine measured during each call are taken off.
it("Redis hung (SIGSTOP) under load: calls return within timeout + function time (p99, plus the documented scheduling allowance)", async () => {
  const outcome = await hang();
  expect(outcome.all.failed).toBe(0);
  expect(outcome.all.wrong).toBe(0);
  // Structural, whatever the machine's load: no call waits for two operation timeouts in a row.
  expect(outcome.all.waitedForTwoTimeouts).toBe(0);
  expect(outcome.fault.p99Unstalled).toBeLessThanOrEqual(outcome.latencyBound);
  expect(outcome.all.p99Unstalled).toBeLessThanOrEqual(outcome.latencyBound);
}, 120_000);
