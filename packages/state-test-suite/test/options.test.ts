import type { IState } from "@mimic/core";
import { describeStateConformance, type StateConformanceOptions } from "@mimic/state-test-suite";
import { ReferenceState } from "./reference-state.js";

// Bad options fail the test file at once, naming the option and the value, instead of surfacing as
// confusing test failures.
const valid: StateConformanceOptions = {
  name: "x",
  createState: (): IState => new ReferenceState(),
  capabilities: { sync: true, structuredClone: true },
};

test.each([
  ["an empty name", { ...valid, name: "" }, TypeError, /name must be a non-empty string, got ""/],
  ["a createState that is not a function", { ...valid, createState: new ReferenceState() }, TypeError, /createState must be a function, got an object/],
  ["a closeState that is not a function", { ...valid, closeState: "close" }, TypeError, /closeState must be a function or undefined, got "close"/],
  ["missing capabilities", { ...valid, capabilities: undefined }, TypeError, /capabilities must be an object/],
  ["a capability that is not a boolean", { ...valid, capabilities: { sync: "yes", structuredClone: true } }, TypeError, /capabilities.sync must be a boolean, got "yes"/],
  ["an optional capability that is not a boolean", { ...valid, capabilities: { sync: true, structuredClone: true, tags: 1 } }, TypeError, /capabilities.tags must be a boolean or undefined \(detected\), got 1/],
  ["a null partitions claim", { ...valid, capabilities: { sync: true, structuredClone: true, partitions: null } }, TypeError, /capabilities.partitions must be a boolean or undefined \(detected\), got null/],
  ["a lock claim that is not a boolean", { ...valid, capabilities: { sync: true, structuredClone: true, lock: "yes" } }, TypeError, /capabilities.lock must be a boolean or undefined \(detected\), got "yes"/],
  ["a zero timeScale", { ...valid, timeScale: 0 }, RangeError, /timeScale must be a finite number > 0, got 0/],
  ["a NaN timeScale", { ...valid, timeScale: NaN }, RangeError, /got NaN/],
  ["a failureError that is not a class", { ...valid, failureError: "StateError" }, TypeError, /failureError must be a function/],
])("rejects %s", (_title, options, errorClass, message) => {
  const register = () => describeStateConformance(options as unknown as StateConformanceOptions);
  expect(register).toThrow(errorClass);
  expect(register).toThrow(message);
});
