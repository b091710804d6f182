import { describeStateConformance } from "@mimic/state-test-suite";
import { CapableFailingState, CapableReferenceState, ReferenceState } from "./reference-state.js";

// Every optional capability, claimed: each scenario is its own test.
describeStateConformance({
  name: "reference state with every capability (claimed)",
  createState: () => new CapableReferenceState(),
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, partitions: true, lock: true, getMany: true, setMany: true, fencesWrites: true },
  createFailingState: () => new CapableFailingState(),
});

// The same state, left to detection: one test per capability (and half) runs every scenario.
// (JSON values only: the value tests ran above.)
describeStateConformance({
  name: "reference state with every capability (detected)",
  createState: () => new CapableReferenceState(),
  capabilities: { sync: true, structuredClone: false },
  createFailingState: () => new CapableFailingState(),
});

// A state without them that says so: one test per capability checks that it really lacks it.
describeStateConformance({
  name: "reference state without capabilities (denied, async only)",
  createState: () => new ReferenceState(),
  capabilities: { sync: false, structuredClone: false, deletePrefix: false, tags: false, partitions: false, lock: false, getMany: false, setMany: false, fencesWrites: false },
});
