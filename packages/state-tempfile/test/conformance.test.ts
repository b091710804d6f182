import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeStateConformance } from "@mimic/state-test-suite";
import { FileSystemStateError, TempFileState } from "../src";
import { removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

// A base path under a regular file: every operation fails with ENOTDIR, for real.
function brokenBasePath(): string {
  const file = join(testDirectory(), "a-file");
  writeFileSync(file, "");
  return join(file, "cache");
}

// The static run also signs its entries, so the suite covers the `secret` read and write paths.
const SECRET = "conformance-suite-secret-0123456789";

for (const isStatic of [false, true]) {
  const secret = isStatic ? { secret: SECRET } : {};
  describeStateConformance({
    name: `TempFileState (${isStatic ? "static directory, signed with a secret" : "private directory"})`,
    createState: () => new TempFileState({ basePath: testDirectory(), static: isStatic, ...secret }),
    capabilities: { sync: true, structuredClone: true, deletePrefix: true, tags: true },
    createFailingState: () => new TempFileState({ basePath: brokenBasePath(), static: isStatic, ...secret }),
    failureError: FileSystemStateError,
  });
}
