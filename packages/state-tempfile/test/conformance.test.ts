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

for (const isStatic of [false, true]) {
  describeStateConformance({
    name: `TempFileState (${isStatic ? "static" : "private"} directory)`,
    createState: () => new TempFileState({ basePath: testDirectory(), static: isStatic }),
    capabilities: { sync: true, structuredClone: true },
    createFailingState: () => new TempFileState({ basePath: brokenBasePath(), static: isStatic }),
    failureError: FileSystemStateError,
  });
}
