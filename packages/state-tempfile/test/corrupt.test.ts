import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CorruptEntryError, type CacheEntry } from "@mimic/core";
import { TempFileState } from "../src";
import { FIXED_HEADER_SIZE, FORMAT_VERSION } from "../src/format";
import { removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

const KEY = "f|corrupt";

function entryPath(state: TempFileState): string {
  return state.entryFile(KEY);
}

/** Where the payload starts in an entry of KEY written with the v8 serializer and no tags. */
const PAYLOAD_OFFSET = FIXED_HEADER_SIZE + 2 + Buffer.byteLength(KEY, "utf16le");

/** A real, complete entry as the state writes it, to damage. */
function goodEntry(): Buffer {
  const donor = new TempFileState({ basePath: testDirectory() });
  states.push(donor);
  donor.setSync(KEY, { precious: "value", list: [1, 2, 3] }, null);
  return readFileSync(entryPath(donor));
}

function withByte(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = value;
  return copy;
}

const damages: Array<[string, () => Buffer, RegExp]> = [
  ["a zero-byte file", () => Buffer.alloc(0), /shorter than a header/],
  ["a truncated header", () => goodEntry().subarray(0, FIXED_HEADER_SIZE - 5), /shorter than a header/],
  ["random bytes", () => randomBytes(300), /bad magic|format version|unknown flags|signed|serializer|truncated/],
  ["a header from a future format version", () => withByte(goodEntry(), 4, FORMAT_VERSION + 1), /format version/],
  [
    "a header of another serializer",
    () => {
      const bytes = Buffer.from(goodEntry());
      bytes.write("js", FIXED_HEADER_SIZE, "latin1"); // same length as "v8": only the name differs
      return bytes;
    },
    /written by serializer "js"/,
  ],
  ["a truncated payload", () => goodEntry().subarray(0, -3), /truncated/],
  [
    "a payload that does not deserialize",
    () => {
      const bytes = Buffer.from(goodEntry());
      bytes.fill(0xff, PAYLOAD_OFFSET);
      return bytes;
    },
    /does not deserialize/,
  ],
  [
    "another key's entry under this key's name",
    () => {
      const donor = new TempFileState({ basePath: testDirectory() });
      states.push(donor);
      donor.setSync("f|other", { precious: "value", list: [1, 2, 3] }, null);
      return readFileSync(donor.entryFile("f|other"));
    },
    /holds the entry of another key/,
  ],
];

describe.each([
  ["async", (state: TempFileState) => state.get(KEY)],
  ["sync", async (state: TempFileState): Promise<CacheEntry | undefined> => state.getSync(KEY)],
])("a damaged entry file read with the %s API", (mode, read) => {
  it.each(damages)("%s is a CorruptEntryError, the file is removed and the next set works", async (_, damage, message) => {
    const state = new TempFileState({ basePath: testDirectory() });
    states.push(state);
    const file = entryPath(state);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, damage());

    const failure = read(state);
    await expect(failure).rejects.toThrow(CorruptEntryError);
    await expect(failure).rejects.toThrow(message);
    expect(existsSync(file)).toBe(false);
    expect(await read(state)).toBeUndefined();

    if (mode === "sync") state.setSync(KEY, "fresh", null);
    else await state.set(KEY, "fresh", null);
    expect(await read(state)).toEqual({ value: "fresh" });
  });

  it("a file that cannot be read (a directory in its place) is an error naming the path, not a value", async () => {
    const state = new TempFileState({ basePath: testDirectory() });
    states.push(state);
    mkdirSync(entryPath(state), { recursive: true });
    await expect(read(state)).rejects.toThrow(/cannot read .*: EISDIR/);
  });
});

it("a set overwrites a damaged file without reading it", async () => {
  const state = new TempFileState({ basePath: testDirectory() });
  states.push(state);
  const file = entryPath(state);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, randomBytes(64));
  await state.set(KEY, 42, null);
  expect(await state.get(KEY)).toEqual({ value: 42 });
});
