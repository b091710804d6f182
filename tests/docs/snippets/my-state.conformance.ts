// test/my-state.test.ts in your project: the whole IState contract as jest tests.
import { describeStateConformance } from "@mimic/state-test-suite";
import { MyState } from "./my-state.js";

describeStateConformance({
  name: "MyState",
  createState: () => new MyState(), // fresh and empty: each instance has its own Map
  capabilities: { sync: true, structuredClone: true }, // values kept by reference count as cloned
});
