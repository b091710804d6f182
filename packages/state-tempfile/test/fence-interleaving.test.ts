import { v8Serializer } from "@mimic/core";
import { TempFileState } from "../src";
import { openStaticDirectory } from "../src/directory";
import { encodeEntry, type EntryEncoding } from "../src/entry";
import { storeEntry } from "../src/entry-steps";
import { encodeSerializerName } from "../src/format";
import { runAsync, runSync } from "../src/fs-drivers";
import type { FsRequest, Steps } from "../src/fs-steps";
import { locateEntry } from "../src/paths";
import { invalidateTagsSteps } from "../src/tag-markers";
import { removeTestDirectories, tempFiles, testDirectory } from "./helpers";

// The one interleaving a race loop hits only now and then, made to happen every time: a fenced write
// has checked the stamps (nothing covers it yet) and is about to rename its temporary file into place
// when an invalidation runs from start to end. The invalidation must still win: it removes the
// write's temporary file, so the rename finds nothing and nothing is stored.

afterEach(removeTestDirectories);

const KEY = "user|42";
const TAGS = ["user:42"];
const codec: EntryEncoding = { serializer: v8Serializer, serializerName: encodeSerializerName(v8Serializer.name), secret: undefined };

/** Passes `steps`' file-system requests through, running `hook` once just before the first rename. */
function* beforeRename<T>(steps: Steps<T>, hook: () => void): Steps<T> {
  let hooked = false;
  let next = steps.next();
  while (!next.done) {
    const request: FsRequest = next.value;
    if (request.op === "rename" && !hooked) {
      hooked = true;
      hook();
    }
    let result: unknown;
    try {
      result = yield request;
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

const invalidations: Array<[string, (other: TempFileState, root: string) => void]> = [
  ["deleteSync of the key", (other) => other.deleteSync(KEY)],
  ["clearSync", (other) => other.clearSync()],
  ["deletePrefixSync of its namespace", (other) => other.deletePrefixSync("user|")],
  ["deletePrefixSync of a longer prefix", (other) => other.deletePrefixSync("user|4")],
  ["invalidateTags of its tag", (_, root) => void runSync(invalidateTagsSteps(root, TAGS, codec, Date.now()))],
];

describe.each(["sync", "async"])("a fenced write (%s driver) past its check, before its rename", (driver) => {
  it.each(invalidations)("loses to a %s that runs in between: nothing is stored", async (_, invalidate) => {
    const basePath = testDirectory();
    const other = new TempFileState({ basePath, static: true });
    const trusted = openStaticDirectory(basePath);
    const location = locateEntry(trusted.path, KEY);
    const startedAt = Date.now();
    const chunks = encodeEntry("old", null, location.keyBytes, TAGS, codec, startedAt);
    const steps = beforeRename(
      storeEntry(trusted, location, chunks, TAGS, false, { key: KEY, location, tags: TAGS, startedAt }),
      () => invalidate(other, trusted.path),
    );
    const stored = driver === "sync" ? runSync(steps) : await runAsync(steps);
    expect(stored).toBe(false);
    expect(other.getSync(KEY)).toBeUndefined();
    expect(tempFiles(trusted.path)).toEqual([]);
    await other.close();
  });

  it("an unrelated invalidation in between does not stop it", async () => {
    const basePath = testDirectory();
    const other = new TempFileState({ basePath, static: true });
    const trusted = openStaticDirectory(basePath);
    const location = locateEntry(trusted.path, KEY);
    const startedAt = Date.now();
    const chunks = encodeEntry("kept", null, location.keyBytes, TAGS, codec, startedAt);
    const steps = beforeRename(
      storeEntry(trusted, location, chunks, TAGS, false, { key: KEY, location, tags: TAGS, startedAt }),
      () => other.deleteSync("user|43"),
    );
    expect(driver === "sync" ? runSync(steps) : await runAsync(steps)).toBe(true);
    expect(other.getSync(KEY)).toEqual({ value: "kept" });
    await other.close();
  });
});
