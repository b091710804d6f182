// The shared IState conformance suite (@mimic/state-test-suite) on MemoryState. Imported by path:
// core cannot depend on the suite's package, which depends on core.
import { describeStateConformance } from "../../state-test-suite/src/index.js";
import { MemoryState } from "../src/index.js";

describeStateConformance({
  name: "MemoryState",
  createState: () => new MemoryState(),
  // Values are kept by reference, which is at least as faithful as a structured clone.
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, partitions: true, getMany: true, setMany: true },
});
