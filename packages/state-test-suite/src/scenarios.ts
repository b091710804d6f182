import type { IState } from "@mimic/core";
import { ConformanceError } from "./assertions.js";
import { requireAbsence, requireCapability, type Capability } from "./capabilities.js";
import type { SuiteContext } from "./harness.js";

/** What a capability scenario creates its states with. */
export interface ScenarioEnv<S extends IState> {
  /** A fresh state from `createState` that has the capability; closed after the test. */
  create(): Promise<S>;
  /** A state from `createFailingState` that has the capability; closed after the test. */
  createFailing(): Promise<S>;
}

/** One behaviour of an optional capability. */
export interface Scenario<S extends IState> {
  readonly title: string;
  run(env: ScenarioEnv<S>): Promise<void>;
}

function environment<S extends IState>(context: SuiteContext, capability: Capability<S>, why: string): ScenarioEnv<S> {
  return {
    create: async () => requireCapability(await context.createState(), capability, "createState()", why),
    createFailing: async () => requireCapability(await context.createFailingState(), capability, "createFailingState()", why),
  };
}

/**
 * Registers a capability's scenarios. Claimed (`true`), each is its own test and fails if the state
 * lacks the capability. Left to detection, jest cannot register tests once a state exists (the
 * state often needs a server that a `beforeAll` starts), so one test creates a state, and runs every
 * scenario in turn when the state has the capability, reporting each failing scenario by name; a
 * state without it passes that test, which then only checks nothing is half-implemented. Denied
 * (`false`), nothing is registered here: {@link registerDenial} checks the state really lacks it.
 */
export function registerScenarios<S extends IState>(
  context: SuiteContext,
  capability: Capability<S>,
  scenarios: readonly Scenario<S>[],
): void {
  const claim = context.options.capabilities[capability.option];
  if (claim === false) return;
  if (claim === true) {
    const env = environment(context, capability, `capabilities.${capability.option} is true`);
    for (const scenario of scenarios) context.test(scenario.title, () => scenario.run(env));
    return;
  }
  const title = `every ${capability.option} scenario (${scenarios.length}) runs when the state has it (core's ${capability.detector})`;
  context.test(
    title,
    async () => {
      const probe = await context.createState();
      const problem = capability.inconsistency(probe);
      if (problem !== undefined) throw new ConformanceError(`the state from createState(): ${problem}`);
      const offered = capability.detect(probe);
      await context.closeOpenStates();
      if (!offered) return;
      const env = environment(context, capability, `the first state from createState() had ${capability.needs}`);
      const failures: { title: string; error: unknown }[] = [];
      for (const scenario of scenarios) {
        try {
          await scenario.run(env);
        } catch (error) {
          failures.push({ title: scenario.title, error });
        } finally {
          await context.closeOpenStates();
        }
      }
      if (failures.length > 0) {
        const lines = failures.map(({ title: failed, error }) => `- ${failed}: ${error instanceof Error ? error.message : String(error)}`);
        throw new ConformanceError(`${failures.length} of ${scenarios.length} ${capability.option} scenarios failed:\n${lines.join("\n")}`, {
          cause: failures[0]!.error,
        });
      }
    },
    scenarios.length,
  );
}

/** With `capabilities[option] === false`: a test that the state really lacks the capability. */
export function registerDenial<S extends IState>(context: SuiteContext, capability: Capability<S>): void {
  if (context.options.capabilities[capability.option] !== false) return;
  context.test(`has no ${capability.option}, as capabilities.${capability.option} is false`, async () => {
    requireAbsence(await context.createState(), capability);
  });
}
