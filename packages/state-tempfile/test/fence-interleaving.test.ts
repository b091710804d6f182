import { v8Serializer } from "@mimic/core";
import { TempFileState } from "../src";
import { createPrivateDirectory, openStaticDirectory } from "../src/directory";
import { encodeEntry, type EntryEncoding } from "../src/entry";
import { deleteEntry, readEntry, storeEntry } from "../src/entry-steps";
import { MAX_STAMPS_IN_MEMORY, StampFiles, StampsInMemory } from "../src/fences";
import { encodeSerializerName } from "../src/format";
import { runAsync, runSync } from "../src/fs-drivers";
import type { FsRequest, Steps } from "../src/fs-steps";
import { locateEntry } from "../src/paths";
import { clearSteps, deletePrefixSteps } from "../src/removal";
import type { TrustedDirectory } from "../src/trusted-directory";
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
  ["invalidateTags of its tag", (_, root) => void runSync(invalidateTagsSteps(root, new StampFiles(root), TAGS, codec, Date.now()))],
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

// A private directory keeps its stamps in memory: the same interleaving, with the invalidation run
// through the same directory's steps (no other process can reach a private directory).
const privateInvalidations: Array<[string, (trusted: TrustedDirectory) => void]> = [
  ["delete of the key", (trusted) => runSync(deleteEntry(trusted, locateEntry(trusted.path, KEY), Date.now()))],
  ["clear", (trusted) => void runSync(clearSteps(trusted.path, trusted.stamps, Date.now(), () => undefined))],
  ["deletePrefix of its namespace", (trusted) => void runSync(deletePrefixSteps(trusted.path, trusted.stamps, "user|", Date.now(), codec, () => undefined))],
  ["deletePrefix of a longer prefix", (trusted) => void runSync(deletePrefixSteps(trusted.path, trusted.stamps, "user|4", Date.now(), codec, () => undefined))],
  ["invalidateTags of its tag", (trusted) => void runSync(invalidateTagsSteps(trusted.path, trusted.stamps, TAGS, codec, Date.now()))],
];

describe.each(["sync", "async"])("a private directory: a fenced write (%s driver) past its check, before its rename", (driver) => {
  it("keeps its stamps in memory", () => {
    expect(createPrivateDirectory(testDirectory()).stamps).toBeInstanceOf(StampsInMemory);
    expect(openStaticDirectory(testDirectory()).stamps).toBeInstanceOf(StampFiles);
  });

  it.each(privateInvalidations)("loses to a %s that runs in between: nothing is stored", async (_, invalidate) => {
    const trusted = createPrivateDirectory(testDirectory());
    const location = locateEntry(trusted.path, KEY);
    const startedAt = Date.now();
    const chunks = encodeEntry("old", null, location.keyBytes, TAGS, codec, startedAt);
    const steps = beforeRename(
      storeEntry(trusted, location, chunks, TAGS, false, { key: KEY, location, tags: TAGS, startedAt }),
      () => invalidate(trusted),
    );
    expect(driver === "sync" ? runSync(steps) : await runAsync(steps)).toBe(false);
    expect(runSync(readEntry(trusted, location, codec))).toBeUndefined();
    expect(tempFiles(trusted.path)).toEqual([]);
  });

  it.each(privateInvalidations)("is refused when a %s began after it and before its check", async (_, invalidate) => {
    const trusted = createPrivateDirectory(testDirectory());
    const location = locateEntry(trusted.path, KEY);
    const startedAt = Date.now() - 5;
    invalidate(trusted);
    const chunks = encodeEntry("old", null, location.keyBytes, TAGS, codec, startedAt);
    const steps = storeEntry(trusted, location, chunks, TAGS, false, { key: KEY, location, tags: TAGS, startedAt });
    expect(driver === "sync" ? runSync(steps) : await runAsync(steps)).toBe(false);
    expect(runSync(readEntry(trusted, location, codec))).toBeUndefined();
  });

  it("is stored when the only invalidations cover other keys, or began before it", async () => {
    const trusted = createPrivateDirectory(testDirectory());
    runSync(deleteEntry(trusted, locateEntry(trusted.path, KEY), Date.now() - 50));
    runSync(deletePrefixSteps(trusted.path, trusted.stamps, "order|", Date.now(), codec, () => undefined));
    runSync(invalidateTagsSteps(trusted.path, trusted.stamps, ["user:43"], codec, Date.now()));
    const location = locateEntry(trusted.path, KEY);
    const startedAt = Date.now() - 10;
    const chunks = encodeEntry("kept", null, location.keyBytes, TAGS, codec, startedAt);
    const steps = storeEntry(trusted, location, chunks, TAGS, false, { key: KEY, location, tags: TAGS, startedAt });
    expect(driver === "sync" ? runSync(steps) : await runAsync(steps)).toBe(true);
    expect(runSync(readEntry(trusted, location, codec))?.value).toBe("kept");
  });
});

describe("StampsInMemory", () => {
  it("refuses a write whose execution began more than a window ago; a stamp fences the writes that began before it", () => {
    const stamps = new StampsInMemory();
    const location = locateEntry("/nowhere", KEY);
    const now = Date.now();
    const fence = { key: KEY, location, tags: [], startedAt: now - 11 * 60 * 1000 };
    expect(runSync(stamps.isFenced(fence, now))).toBe(true);
    runSync(stamps.stamp({ kind: "key", location }, now - 25 * 60 * 1000));
    runSync(stamps.stamp({ kind: "key", location }, now));
    const recent = { ...fence, startedAt: now - 1 };
    expect(runSync(stamps.isFenced(recent, now))).toBe(true);
    expect(runSync(stamps.isFenced({ ...recent, startedAt: now + 1 }, now + 1))).toBe(false);
  });
});

describe("StampsInMemory, bounded", () => {
  it("collapses a window past its limit into one stamp that fences every write its stamps fenced", () => {
    const stamps = new StampsInMemory();
    const now = Date.now();
    const locations = Array.from({ length: MAX_STAMPS_IN_MEMORY + 5 }, (_, i) => locateEntry("/nowhere", `user|${i}`));
    locations.forEach((location, i) => runSync(stamps.stamp({ kind: "key", location }, now - 1000 + i / 100)));
    runSync(stamps.stamp({ kind: "prefix", prefix: "order|" }, now - 500));
    const fenceOf = (key: string, startedAt: number) => ({ key, location: locateEntry("/nowhere", key), tags: [], startedAt });
    // Every key invalidated after its write began is still fenced, and so is any other key (more than needed)...
    expect(runSync(stamps.isFenced(fenceOf("user|0", now - 2000), now))).toBe(true);
    expect(runSync(stamps.isFenced(fenceOf(`user|${MAX_STAMPS_IN_MEMORY + 4}`, now - 2000), now))).toBe(true);
    expect(runSync(stamps.isFenced(fenceOf("order|1", now - 2000), now))).toBe(true);
    expect(runSync(stamps.isFenced(fenceOf("other|1", now - 2000), now))).toBe(true);
    // ...while a write that began after the latest of them is stored.
    expect(runSync(stamps.isFenced(fenceOf("user|0", now + 1), now + 1))).toBe(false);
  });
});
