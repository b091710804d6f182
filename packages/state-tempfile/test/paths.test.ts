import { digestKey } from "@mimic/core";
import {
  EntryLocator,
  claimFileFor,
  entryFileOfMarker,
  locateEntry,
  namespaceDirectory,
  namespaceOf,
  parseClaimFile,
  tempFileFor,
  tempFileWriter,
  trashDirectoryIn,
  trashOwner,
} from "../src/paths";

describe("entry file names", () => {
  it("are core's digestKey", () => {
    for (const key of ["", "m1:s:f:1:0123|[n:1]", "\u00e9\u{1F600}", "a|b|c"]) expect(locateEntry("/c", key).digest).toBe(digestKey(key));
  });

  it("tell apart keys that differ only in lone surrogates (which UTF-8 would turn into U+FFFD)", () => {
    const keys = ["a\uD800", "a\uDBFF", "a\uDC00", "a\uFFFD", "a\uDC00\uD800", "a\uD83D\uDE00"];
    expect(new Set(keys.map((key) => locateEntry("/c", key).file)).size).toBe(keys.length);
  });

  it("live in their namespace's directory, sharded by the key digest's first two hex digits", () => {
    const location = locateEntry("/cache", "m1:s:f::-|A1:d1;");
    const namespaceId = digestKey("m1:s:f::-|").slice(0, 32);
    expect(location.namespaceDirectory).toBe(`/cache/n2-${namespaceId}`);
    expect(location.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(location.shard).toBe(`/cache/n2-${namespaceId}/${location.digest.slice(0, 2)}`);
    expect(location.file).toBe(`${location.shard}/${location.digest}`);
    expect(location.marker).toBe(`${namespaceId}-${location.digest}`);
    expect(entryFileOfMarker("/cache", location.marker)).toBe(location.file);
    expect(location.keyBytes.toString("utf16le")).toBe("m1:s:f::-|A1:d1;");
  });

  it("a namespace ends at the first |; keys without one share the empty namespace", () => {
    expect(namespaceOf("m1:s:f::-|A1:s3:a|b")).toBe("m1:s:f::-|");
    expect(namespaceOf("|x")).toBe("|");
    expect(namespaceOf("plain")).toBe("");
    expect(locateEntry("/c", "a").namespaceDirectory).toBe(namespaceDirectory("/c", ""));
    expect(locateEntry("/c", "f|1").namespaceDirectory).toBe(locateEntry("/c", "f|2").namespaceDirectory);
    expect(locateEntry("/c", "f|1").namespaceDirectory).not.toBe(locateEntry("/c", "ff|1").namespaceDirectory);
  });

  it("EntryLocator answers like locateEntry, for short and long keys, past its bound", () => {
    const locator = new EntryLocator("/cache");
    const wrong: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const key = i % 7 === 0 ? `long${i % 3}|${"x".repeat(600)}${i}` : `k${i % 5000}|${i % 4500}`;
      const found = locator.locate(key);
      const expected = locateEntry("/cache", key);
      if (found.file !== expected.file || found.marker !== expected.marker || !found.keyBytes.equals(expected.keyBytes)) wrong.push(key);
    }
    expect(wrong).toEqual([]);
  });
});

describe("temporary, claim and trash names", () => {
  it("temporary files are unique, hidden, next to the entry, and name their writer's pid", () => {
    const location = locateEntry("/cache", "k");
    const names = new Set(Array.from({ length: 1000 }, () => tempFileFor(location)));
    expect(names.size).toBe(1000);
    for (const path of names) {
      expect(path.startsWith(`${location.shard}/.${location.digest}.${process.pid}.`)).toBe(true);
      expect(tempFileWriter(path.slice(location.shard.length + 1))).toBe(process.pid);
    }
  });

  it("temporary files are told apart from entries and foreign files", () => {
    expect(tempFileWriter("0".repeat(64))).toBeUndefined();
    expect(tempFileWriter("notes.tmp")).toBeUndefined();
    expect(tempFileWriter(`.${"a".repeat(64)}.123.zz9.tmp`)).toBe(123);
  });

  it("claims name their marker and claimer; trash directories their remover", () => {
    const { marker } = locateEntry("/cache", "f|1");
    const claim = claimFileFor("/cache/t2-x", marker);
    expect(parseClaimFile(claim.slice("/cache/t2-x/".length))).toEqual({ marker, pid: process.pid });
    expect(parseClaimFile(marker)).toBeUndefined();
    const trash = trashDirectoryIn("/cache");
    expect(trashOwner(trash.slice("/cache/".length))).toBe(process.pid);
    expect(trashOwner("n2-" + "0".repeat(32))).toBeUndefined();
  });
});
