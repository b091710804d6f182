import { MimicError, v8Serializer } from "@mimic/core";
import { describeStateConformance } from "@mimic/state-test-suite";
import { FailingState, ReferenceState } from "./reference-state.js";

class BackendDownError extends MimicError {
  constructor() {
    super("TEST_BACKEND_DOWN", "backend is down");
  }
}

// Values cross node:v8 as they do in the Redis and temp-file states: copies, Buffers as Uint8Arrays.
describeStateConformance({
  name: "reference state over node:v8 bytes, with its own failure error",
  createState: () => new ReferenceState(v8Serializer),
  capabilities: { sync: true, structuredClone: true },
  createFailingState: () => new FailingState(() => new BackendDownError()),
  failureError: BackendDownError,
  timeScale: 1.5,
});
