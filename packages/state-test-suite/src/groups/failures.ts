import { setTimeout as delay } from "node:timers/promises";
import { stateName, type IState } from "@mimic/core";
import { ConformanceError } from "../assertions.js";
import { preview } from "../format.js";
import type { SuiteContext } from "../harness.js";

/** How long an operation of a failing state may take to reject (ms, before `timeScale`). */
const SETTLE_WITHIN_MS = 10_000;

type Outcome = { kind: "resolved"; value: unknown } | { kind: "rejected"; error: unknown } | { kind: "pending" };

/**
 * A state whose backend is broken: every operation rejects (async) or throws (sync) with the
 * documented error class, and none resolves with a value (a failure must never look like a miss or
 * a hit).
 */
export function registerFailureTests(context: SuiteContext): void {
  const { failureError } = context.options;
  const sample = { some: "value" };

  const asyncCases: [string, (state: IState) => unknown][] = [
    ["get", (state) => state.get("k")],
    ["set", (state) => state.set("k", sample, null)],
    ["delete", (state) => state.delete("k")],
    ["clear", (state) => state.clear()],
  ];
  for (const [name, call] of asyncCases) {
    context.test(`${name} rejects with ${failureError.name}`, async () => {
      const state = await context.createFailingState();
      await expectRejection(context, state, name, call);
    });
  }

  if (!context.options.capabilities.sync) return;

  context.test(`getSync throws ${failureError.name}`, async () => {
    const state = await context.createFailingState();
    expectThrow(context, state, "getSync", (s) => s.getSync?.("k"));
  });

  context.test(`setSync, and deleteSync and clearSync where present, throw ${failureError.name}`, async () => {
    const state = await context.createFailingState();
    expectThrow(context, state, "setSync", (s) => s.setSync?.("k", sample, null));
    if (state.deleteSync !== undefined) expectThrow(context, state, "deleteSync", (s) => s.deleteSync?.("k"));
    if (state.clearSync !== undefined) expectThrow(context, state, "clearSync", (s) => s.clearSync?.());
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : preview(error);
}

function checkError(context: SuiteContext, state: IState, operation: string, error: unknown): void {
  const { failureError } = context.options;
  if (!(error instanceof failureError)) {
    throw new ConformanceError(
      `${stateName(state)}.${operation} on a failing backend failed with ${describeError(error)}, ` +
        `which is not an instance of ${failureError.name}`,
      { cause: error },
    );
  }
}

export async function expectRejection(
  context: SuiteContext,
  state: IState,
  operation: string,
  call: (state: IState) => unknown,
): Promise<void> {
  let result: unknown;
  try {
    result = call(state);
  } catch (error) {
    throw new ConformanceError(
      `${stateName(state)}.${operation} threw synchronously (${describeError(error)}); an async operation must return a rejected promise`,
      { cause: error },
    );
  }
  if (!(result instanceof Promise) && typeof (result as { then?: unknown } | null)?.then !== "function") {
    throw new ConformanceError(`${stateName(state)}.${operation} returned ${preview(result)} instead of a promise`);
  }
  const budget = SETTLE_WITHIN_MS * context.options.timeScale;
  const abort = new AbortController();
  const outcome: Outcome = await Promise.race([
    Promise.resolve(result).then(
      (value): Outcome => ({ kind: "resolved", value }),
      (error: unknown): Outcome => ({ kind: "rejected", error }),
    ),
    delay(budget, { kind: "pending" } as Outcome, { signal: abort.signal }).catch((): Outcome => ({ kind: "pending" })),
  ]);
  abort.abort();
  if (outcome.kind === "pending") {
    throw new ConformanceError(`${stateName(state)}.${operation} on a failing backend did not settle within ${budget} ms`);
  }
  if (outcome.kind === "resolved") {
    throw new ConformanceError(
      `${stateName(state)}.${operation} on a failing backend resolved with ${preview(outcome.value)}; it must reject`,
    );
  }
  checkError(context, state, operation, outcome.error);
}

export function expectThrow(context: SuiteContext, state: IState, operation: string, call: (state: IState) => unknown): void {
  if (typeof state[operation as keyof IState] !== "function") {
    throw new ConformanceError(`capabilities.sync is true, but the failing ${stateName(state)} has no ${operation} method`);
  }
  let result: unknown;
  try {
    result = call(state);
  } catch (error) {
    checkError(context, state, operation, error);
    return;
  }
  // A promise here is a contract breach already; keep its rejection from surfacing as unhandled.
  if (result instanceof Promise) result.catch(() => undefined);
  throw new ConformanceError(
    `${stateName(state)}.${operation} on a failing backend returned ${preview(result)}; it must throw`,
  );
}
