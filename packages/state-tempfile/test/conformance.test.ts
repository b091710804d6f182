import { describeStateConformance } from "@mimic/state-test-suite";
import { FileSystemStateError, TempFileState } from "../src";
import { brokenBasePath, removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

// A private directory here; conformance-static.test.ts runs the same suite on a static directory
// with signed entries (a file each, so that jest runs them side by side).
describeStateConformance({
  name: "TempFileState (private directory)",
  createState: () => new TempFileState({ basePath: testDirectory() }),
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, getMany: true, setMany: true, fencesWrites: true },
  createFailingState: () => new TempFileState({ basePath: brokenBasePath() }),
  failureError: FileSystemStateError,
});
