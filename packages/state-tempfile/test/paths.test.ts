import { digestKey } from "@mimic/core";
import { EntryLocator, locateEntry, tempFileFor, tempFileWriter } from "../src/paths";

describe("entry file names", () => {
  it("are core's digestKey", () => {
    for (const key of ["", "m1:s:f:1:0123|[n:1]", "\u00e9\u{1F600}", "a|b|c"]) expect(locateEntry("/c", key).digest).toBe(digestKey(key));
  });

  it("tell apart keys that differ only in lone surrogates (which UTF-8 would turn into U+FFFD)", () => {
    const keys = ["a\uD800", "a\uDBFF", "a\uDC00", "a\uFFFD", "a\uDC00\uD800", "a\uD83D\uDE00"];
    expect(new Set(keys.map((key) => locateEntry("/c", key).file)).size).toBe(keys.length);
  });

  it("are sharded by their first two hex digits", () => {
    const location = locateEntry("/cache", "k");
    expect(location.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(location.shard).toBe(`/cache/${location.digest.slice(0, 2)}`);
    expect(location.file).toBe(`${location.shard}/${location.digest}`);
  });

  it("EntryLocator answers like locateEntry, for short and long keys, past its bound", () => {
    const locator = new EntryLocator("/cache");
    const wrong: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const key = i % 7 === 0 ? `long|${"x".repeat(600)}${i}` : `k|${i % 4500}`;
      if (locator.locate(key).file !== locateEntry("/cache", key).file) wrong.push(key);
    }
    expect(wrong).toEqual([]);
  });
});

describe("temporary file names", () => {
  it("are unique, hidden, next to the entry, and name their writer's pid", () => {
    const location = locateEntry("/cache", "k");
    const names = new Set(Array.from({ length: 1000 }, () => tempFileFor(location)));
    expect(names.size).toBe(1000);
    for (const path of names) {
      expect(path.startsWith(`${location.shard}/.${location.digest}.${process.pid}.`)).toBe(true);
      expect(tempFileWriter(path.slice(location.shard.length + 1))).toBe(process.pid);
    }
  });

  it("are told apart from entries and foreign files", () => {
    expect(tempFileWriter("0".repeat(64))).toBeUndefined();
    expect(tempFileWriter("notes.tmp")).toBeUndefined();
    expect(tempFileWriter(`.${"a".repeat(64)}.123.zz9.tmp`)).toBe(123);
  });
});
