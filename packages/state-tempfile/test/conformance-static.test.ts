import { describeStateConformance } from "@mimic/state-test-suite";
import { FileSystemStateError, TempFileState } from "../src";
import { brokenBasePath, removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

// Signed entries too, so that the suite covers the `secret` read and write paths.
const secret = "conformance-suite-secret-0123456789";

describeStateConformance({
  name: "TempFileState (static directory, signed with a secret)",
  createState: () => new TempFileState({ basePath: testDirectory(), static: true, secret }),
  capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true, getMany: true, setMany: true, fencesWrites: true },
  createFailingState: () => new TempFileState({ basePath: brokenBasePath(), static: true, secret }),
  failureError: FileSystemStateError,
});
