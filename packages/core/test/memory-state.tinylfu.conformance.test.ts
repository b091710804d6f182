// The shared IState conformance suite on MemoryState with the W-TinyLFU policy.
import { describeStateConformance } from "../../state-test-suite/src/index.js";
import { MemoryState } from "../src/index.js";

describeStateConformance({
  name: "MemoryState (policy tinylfu)",
  createState: () => new MemoryState({ policy: "tinylfu" }),
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, partitions: true, getMany: true, setMany: true },
});
