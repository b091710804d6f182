import { describeStateConformance } from "@mimic/state-test-suite";
import { AsyncOnlyState, ReferenceState, jsonWithSpecials } from "./reference-state.js";

// An async-only state that keeps JSON-safe values only: the suite registers neither the sync nor the
// structured-clone tests for it.
describeStateConformance({
  name: "reference state over JSON (async only)",
  createState: () => new AsyncOnlyState(new ReferenceState(jsonWithSpecials)),
  capabilities: { sync: false, structuredClone: false },
});
