import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { CorruptEntryError, InvalidOptionError, Mime, v8Serializer, type CacheEntry, type MimicError, type Serializer } from "@mimic/core";
import { TempFileState, type TempFileStateOptions } from "../src";
import { FIXED_HEADER_SIZE, MAC_SIZE, decodeHeader, encodeSerializerName } from "../src/format";
import { removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

const SECRET = randomBytes(32);

/** v8, counting how often bytes reach `deserialize`: tampered bytes must never get there. */
function countingSerializer(): Serializer & { deserialized: number } {
  const serializer = {
    name: "v8",
    deserialized: 0,
    serialize: (value: unknown) => v8Serializer.serialize(value),
    deserialize: (bytes: Uint8Array) => {
      serializer.deserialized++;
      return v8Serializer.deserialize(bytes);
    },
  };
  return serializer;
}

function newState(basePath: string, options: TempFileStateOptions = {}): TempFileState {
  const state = new TempFileState({ basePath, static: true, ...options });
  states.push(state);
  return state;
}

const KEY = "f|signed";
const VALUE = { account: "alice", balance: 100, since: new Date(0) };

/** A signed state with a counting serializer, holding KEY = VALUE. */
function signedEntry(): { state: TempFileState; serializer: ReturnType<typeof countingSerializer>; file: string; basePath: string } {
  const basePath = testDirectory();
  const serializer = countingSerializer();
  const state = newState(basePath, { secret: SECRET, serializer });
  state.setSync(KEY, VALUE, null);
  return { state, serializer, file: state.entryFile(KEY), basePath };
}

const reads: Array<[string, (state: TempFileState, key: string) => Promise<CacheEntry | undefined>]> = [
  ["get", (state, key) => state.get(key)],
  ["getSync", async (state, key) => state.getSync(key)],
];

describe("entries signed with a secret", () => {
  it("round-trip, and carry the signed flag and a 32-byte HMAC-SHA256 after the payload", async () => {
    const { state, serializer, file } = signedEntry();
    expect(await state.get(KEY)).toEqual({ value: VALUE });
    expect(serializer.deserialized).toBe(1);
    const bytes = readFileSync(file);
    expect(bytes[5]).toBe(1);
    const header = decodeHeader(bytes, bytes.length, encodeSerializerName("v8"), true, file);
    expect(bytes.length).toBe(header.payloadOffset + header.payloadLength + MAC_SIZE);
  });

  it("a string secret and a Buffer with the same bytes are the same key", async () => {
    const basePath = testDirectory();
    const text = "correct horse battery staple";
    newState(basePath, { secret: text }).setSync(KEY, "shared", null);
    expect(newState(basePath, { secret: Buffer.from(text) }).getSync(KEY)).toEqual({ value: "shared" });
  });

  describe.each(reads)("tampering, read with %s: a miss reported as CorruptEntryError, never deserialized, the file removed", (_, read) => {
    async function expectRefused(state: TempFileState, serializer: { deserialized: number }, file: string, message: RegExp): Promise<void> {
      const before = serializer.deserialized;
      const failure = read(state, KEY);
      await expect(failure).rejects.toThrow(CorruptEntryError);
      await expect(failure).rejects.toThrow(message);
      expect(serializer.deserialized).toBe(before);
      expect(existsSync(file)).toBe(false);
      expect(await read(state, KEY)).toBeUndefined();
    }

    it("a payload byte flipped on disk", async () => {
      const { state, serializer, file } = signedEntry();
      const bytes = readFileSync(file);
      bytes[bytes.length - MAC_SIZE - 3]! ^= 0x01;
      writeFileSync(file, bytes);
      await expectRefused(state, serializer, file, /wrong MAC .* not deserialized/);
    });

    it("the expiry changed on disk (to keep an entry alive)", async () => {
      const basePath = testDirectory();
      const serializer = countingSerializer();
      const state = newState(basePath, { secret: SECRET, serializer });
      state.setSync(KEY, VALUE, 60);
      const file = state.entryFile(KEY);
      const bytes = readFileSync(file);
      bytes.writeDoubleLE(-1, 16);
      writeFileSync(file, bytes);
      await expectRefused(state, serializer, file, /wrong MAC/);
    });

    it("the MAC itself changed", async () => {
      const { state, serializer, file } = signedEntry();
      const bytes = readFileSync(file);
      bytes[bytes.length - 1]! ^= 0x80;
      writeFileSync(file, bytes);
      await expectRefused(state, serializer, file, /wrong MAC/);
    });

    it("an entry forged without the secret (written by a state that has none)", async () => {
      const { state, serializer, file, basePath } = signedEntry();
      newState(basePath).setSync(KEY, { account: "mallory", balance: 1e9 }, null);
      await expectRefused(state, serializer, file, /not signed/);
    });

    it("an entry forged with another secret", async () => {
      const { state, serializer, file, basePath } = signedEntry();
      newState(basePath, { secret: randomBytes(32) }).setSync(KEY, { account: "mallory", balance: 1e9 }, null);
      await expectRefused(state, serializer, file, /wrong MAC/);
    });

    it("an entry forged by hand: the signed flag set and a made-up MAC", async () => {
      const { state, serializer, file } = signedEntry();
      const forger = newState(testDirectory());
      forger.setSync(KEY, { account: "mallory" }, null);
      const forged = Buffer.concat([readFileSync(forger.entryFile(KEY)), randomBytes(MAC_SIZE)]);
      forged[5] = 1;
      writeFileSync(file, forged);
      await expectRefused(state, serializer, file, /wrong MAC/);
    });

    it("another key's correctly signed entry copied over this key's file (a replay)", async () => {
      const { state, serializer, file } = signedEntry();
      state.setSync("f|other", { account: "mallory" }, null);
      copyFileSync(state.entryFile("f|other"), file);
      await expectRefused(state, serializer, file, /holds the entry of another key/);
    });
  });

  it("signed entries are refused by a state without the secret", async () => {
    const { basePath } = signedEntry();
    const serializer = countingSerializer();
    const plain = newState(basePath, { serializer });
    await expect(plain.get(KEY)).rejects.toThrow(/is signed, but this state has no secret/);
    expect(serializer.deserialized).toBe(0);
  });

  it("the sweep removes entries that are not signed, and reports them", async () => {
    const basePath = testDirectory();
    newState(basePath).setSync("f|unsigned", 1, null);
    const errors: Error[] = [];
    const signed = newState(basePath, { secret: SECRET, onError: (error) => errors.push(error) });
    signed.setSync("f|signed", 2, null);
    expect(await signed.sweep()).toMatchObject({ entries: 1, corrupt: 1 });
    expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/is not signed/)]);
  });

  it.each(["sync", "async"])("through Mime (%s): a tampered entry is a miss, the function runs, onError gets a CorruptEntryError", async (kind) => {
    const { state, serializer } = signedEntry();
    const errors: MimicError[] = [];
    let calls = 0;
    const body = (id: string) => {
      calls++;
      return { id, fresh: true };
    };
    const options = { ttl: 60, state, name: `tampered-${kind}`, onError: (error: MimicError) => errors.push(error) };
    const load = kind === "sync" ? Mime(options)((id: string) => body(id)) : Mime(options)(async (id: string) => body(id));
    expect(await load("a")).toEqual({ id: "a", fresh: true });
    const file = state.entryFile(load.key("a"));
    const bytes = readFileSync(file);
    bytes[FIXED_HEADER_SIZE + 2]! ^= 0x20; // inside the stored key
    writeFileSync(file, bytes);
    const before = serializer.deserialized;
    expect(await load("a")).toEqual({ id: "a", fresh: true });
    expect(calls).toBe(2);
    expect(serializer.deserialized).toBe(before);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(CorruptEntryError);
    expect(await load("a")).toEqual({ id: "a", fresh: true });
    expect(calls).toBe(2);
  });
});

describe("the secret option", () => {
  it.each<[string, unknown, RegExp]>([
    ["a short string", "short", /"secret" must be at least 16 bytes .* got 5/],
    ["an empty Buffer", Buffer.alloc(0), /at least 16 bytes/],
    ["a number", 42, /"secret" must be a string or a Uint8Array\/Buffer, got 42/],
    ["an object", { key: "hunter2-hunter2-hunter2" }, /"secret" must be a string or a Uint8Array\/Buffer, got object$/],
  ])("rejects %s with InvalidOptionError, without echoing the secret", (_, secret, message) => {
    const construct = () => new TempFileState({ secret: secret as string });
    expect(construct).toThrow(InvalidOptionError);
    expect(construct).toThrow(message);
    try {
      construct();
    } catch (error) {
      if (typeof secret === "string") expect((error as Error).message).not.toContain(`"${secret}"`);
    }
  });

  it("is copied: changing the caller's buffer afterwards changes nothing", async () => {
    const basePath = testDirectory();
    const secret = Buffer.from(SECRET);
    const state = newState(basePath, { secret });
    state.setSync(KEY, 1, null);
    secret.fill(0);
    expect(state.getSync(KEY)).toEqual({ value: 1 });
  });
});
