import { describeStateConformance } from "@mimic/state-test-suite";
import { FailingState, ReferenceState } from "./reference-state.js";

// The suite against a correct state that keeps references, as MemoryState does.
describeStateConformance({
  name: "reference Map state (references, sync + async)",
  createState: () => new ReferenceState(),
  capabilities: { sync: true, structuredClone: true },
  createFailingState: () => new FailingState(),
});
