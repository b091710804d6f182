import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import { CorruptEntryError, Mime, type MimicError, type Serializer } from "@mimic/core";
import { TempFileState } from "@mimic/state-tempfile";
import { recordFigures } from "./support/figures";

// Item 6 of the reliability issue, temp files: with a `secret`, entries are signed (HMAC-SHA256);
// an entry changed on disk, forged without the secret, signed with another secret, or moved to
// another key's file is a miss, reported as a CorruptEntryError, and its bytes are never deserialized.

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
function testDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), "mimic-reliability-tamper-"));
  directories.push(directory);
  return directory;
}

/** v8, counting deserializations: a tampered entry must be rejected before its bytes are decoded. */
function countingSerializer(): Serializer & { deserialized: number } {
  const serializer = {
    name: "v8",
    deserialized: 0,
    serialize: (value: unknown) => serialize(value),
    deserialize: (bytes: Uint8Array) => {
      serializer.deserialized++;
      return deserialize(bytes);
    },
  };
  return serializer;
}

/** Entry files under `directory`. */
function entryFiles(directory: string): string[] {
  return (readdirSync(directory, { recursive: true }) as string[])
    .filter((name) => /[0-9a-f]{64}$/.test(name))
    .map((name) => path.join(directory, name));
}

function setup(basePath: string, secret: string | Buffer | undefined) {
  const serializer = countingSerializer();
  const state = new TempFileState({ basePath, static: true, serializer, ...(secret === undefined ? {} : { secret }) });
  const reported: MimicError[] = [];
  let executions = 0;
  const memo = Mime({ state, name: "reliability.tamper.lookup", onError: (error) => void reported.push(error) })(
    (id: string) => (executions++, { id, role: id === "admin" ? "admin" : "user" }),
  );
  return {
    state,
    serializer,
    reported,
    /** A plain call (not a method call on this object, which a shared state would refuse). */
    lookup: (id: string) => memo(id),
    key: (id: string) => memo.key(id),
    executions: () => executions,
  };
}

it("a signed entry changed on disk (one payload byte flipped) is a miss, reported, never deserialized", async () => {
  const basePath = testDirectory();
  const secret = randomBytes(32);
  const writer = setup(basePath, secret);
  expect(writer.lookup("alice")).toEqual({ id: "alice", role: "user" });
  const [file] = entryFiles(writer.state.directory);
  // Sanity: a fresh reader with the same secret hits.
  const reader = setup(basePath, secret);
  expect(reader.lookup("alice")).toEqual({ id: "alice", role: "user" });
  expect(reader.executions()).toBe(0);
  expect(reader.serializer.deserialized).toBe(1);

  const bytes = readFileSync(file!);
  // The v8 payload of { id: "alice", role: "user" } holds the text "user"; make it "admin"-like.
  const at = bytes.lastIndexOf(Buffer.from("user"));
  expect(at).toBeGreaterThan(0);
  bytes.write("xser", at, "latin1");
  writeFileSync(file!, bytes);

  const victim = setup(basePath, secret);
  expect(victim.lookup("alice")).toEqual({ id: "alice", role: "user" });
  expect(victim.executions()).toBe(1);
  expect(victim.serializer.deserialized).toBe(0);
  expect(victim.reported).toHaveLength(1);
  expect(victim.reported[0]).toBeInstanceOf(CorruptEntryError);
  expect(victim.reported[0]!.code).toBe("MIMIC_CORRUPT_ENTRY");
  // The call stored a fresh, signed entry over the tampered one: the next reader hits again.
  const after = setup(basePath, secret);
  expect(after.lookup("alice")).toEqual({ id: "alice", role: "user" });
  expect(after.executions()).toBe(0);
  for (const s of [writer, reader, victim, after]) await s.state.close();
});

it("an entry forged without the secret, or signed with another secret, is a miss, reported, never deserialized", async () => {
  const basePath = testDirectory();
  const secret = randomBytes(32);
  const figures: Record<string, number> = {};
  for (const [forger, forgerSecret] of [
    ["no secret", undefined],
    ["another secret", randomBytes(32)],
  ] as const) {
    // The forger writes a complete, well-formed entry under the call's key, with the value it wants.
    const forged = setup(basePath, forgerSecret);
    const victim = setup(basePath, secret);
    forged.state.setSync(victim.key("mallory"), { id: "mallory", role: "admin" }, null);
    expect(forged.state.getSync(victim.key("mallory"))).toEqual({ value: { id: "mallory", role: "admin" } });
    forged.serializer.deserialized = 0;

    expect(victim.lookup("mallory")).toEqual({ id: "mallory", role: "user" });
    expect(victim.executions()).toBe(1);
    expect(victim.serializer.deserialized).toBe(0);
    expect(victim.reported.map((e) => e.constructor.name)).toEqual(["CorruptEntryError"]);
    figures[forger] = victim.reported.length;
    await forged.state.close();
    await victim.state.close();
  }
  recordFigures("tampering-tempfile-forged", figures);
});

it("a signed entry moved to another key's file (replay) is a miss, reported, never deserialized", async () => {
  const basePath = testDirectory();
  const secret = randomBytes(32);
  const writer = setup(basePath, secret);
  writer.lookup("admin");
  const [adminFile] = entryFiles(writer.state.directory);
  writer.lookup("mallory");
  const malloryFile = entryFiles(writer.state.directory).find((file) => file !== adminFile);
  expect(malloryFile).toBeDefined();
  // A validly signed entry, but of another call: the MAC must cover the key too.
  copyFileSync(adminFile!, malloryFile!);

  const victim = setup(basePath, secret);
  expect(victim.lookup("mallory")).toEqual({ id: "mallory", role: "user" });
  expect(victim.executions()).toBe(1);
  expect(victim.serializer.deserialized).toBe(0);
  expect(victim.reported.map((e) => e.constructor.name)).toEqual(["CorruptEntryError"]);
  await writer.state.close();
  await victim.state.close();
});

it("an unsigned entry left from before the secret was set is a miss, reported, never deserialized", async () => {
  const basePath = testDirectory();
  const before = setup(basePath, undefined);
  before.lookup("bob");
  const victim = setup(basePath, randomBytes(32));
  expect(victim.lookup("bob")).toEqual({ id: "bob", role: "user" });
  expect(victim.executions()).toBe(1);
  expect(victim.serializer.deserialized).toBe(0);
  expect(victim.reported.map((e) => e.constructor.name)).toEqual(["CorruptEntryError"]);
  await before.state.close();
  await victim.state.close();
});
