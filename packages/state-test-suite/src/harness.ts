import { setTimeout as delay } from "node:timers/promises";
import { assertIsState, stateName, type IState } from "@mimic/core";
import { ConformanceError } from "./assertions.js";
import { preview } from "./format.js";
import type { TestBody, TestGlobals } from "./jest-globals.js";
import type { ResolvedOptions } from "./options.js";

/** A test's budget at `timeScale` 1: the slowest test waits about a second in total. */
const BASE_TEST_TIMEOUT_MS = 30_000;

/**
 * What each group of tests registers with: the options, test registration with the suite's timeout,
 * tracked state creation and scaled real-time waits.
 */
export class SuiteContext {
  private readonly open: IState[] = [];

  constructor(
    readonly options: ResolvedOptions,
    private readonly globals: TestGlobals,
  ) {}

  describe(name: string, body: () => void): void {
    this.globals.describe(name, body);
  }

  /** Registers a test; `weight` multiplies its timeout, for a test that runs several scenarios in turn. */
  test(name: string, body: TestBody, weight = 1): void {
    this.globals.test(name, body, BASE_TEST_TIMEOUT_MS * this.options.timeScale * weight);
  }

  /** Closes every state the current test created; registered once as an `afterEach`. */
  registerCleanup(): void {
    this.globals.afterEach(() => this.closeOpenStates(), BASE_TEST_TIMEOUT_MS * this.options.timeScale);
  }

  /** A fresh, empty state from `createState`, closed after the test. */
  createState(): Promise<IState> {
    return this.track(this.options.createState, "createState");
  }

  /** A state from `createFailingState`, closed after the test. */
  createFailingState(): Promise<IState> {
    const create = this.options.createFailingState;
    if (create === undefined) throw new ConformanceError("createFailingState was not given");
    return this.track(create, "createFailingState");
  }

  /** A ttl in seconds, scaled by `timeScale`. */
  ttl(seconds: number): number {
    return seconds * this.options.timeScale;
  }

  /**
   * Waits in real time (scaled). `node:timers/promises` keeps working when a user's setup fakes the
   * global timers.
   */
  async wait(seconds: number): Promise<void> {
    await delay(seconds * 1000 * this.options.timeScale);
  }

  private async track(create: () => IState | Promise<IState>, option: string): Promise<IState> {
    const state = await create();
    try {
      assertIsState(state);
    } catch (error) {
      throw new ConformanceError(`${option}() did not return an IState: ${(error as Error).message}`, { cause: error });
    }
    this.open.push(state);
    return state;
  }

  /** Closes every state created so far in the current test (the `afterEach` does it too). */
  async closeOpenStates(): Promise<void> {
    const states = this.open.splice(0);
    const failures: string[] = [];
    for (const state of states) {
      try {
        await (this.options.closeState ? this.options.closeState(state) : state.close?.());
      } catch (error) {
        failures.push(`${stateName(state)}: ${preview(error)}`);
      }
    }
    // Closing must work even for a failing backend: a state that cannot be closed leaks its handles.
    if (failures.length > 0) throw new ConformanceError(`closing a state failed: ${failures.join("; ")}`);
  }
}
