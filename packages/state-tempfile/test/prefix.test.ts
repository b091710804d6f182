import { existsSync, readdirSync } from "node:fs";
import { dirname } from "node:path";
import { Mime, type CacheEntry } from "@mimic/core";
import { TempFileState } from "../src";
import { removeTestDirectories, tempFiles, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

function newState(isStatic = true): TempFileState {
  const state = new TempFileState({ basePath: testDirectory(), static: isStatic });
  states.push(state);
  return state;
}

const modes = {
  async: {
    deletePrefix: (state: TempFileState, prefix: string) => state.deletePrefix(prefix),
    get: (state: TempFileState, key: string) => state.get(key),
  },
  sync: {
    deletePrefix: async (state: TempFileState, prefix: string) => state.deletePrefixSync(prefix),
    get: async (state: TempFileState, key: string): Promise<CacheEntry | undefined> => state.getSync(key),
  },
};

const KEYS = ["m1:s:f::-|A1:d1;", "m1:s:f::-|A1:d2;", "m1:s:ff::-|A1:d1;", "m1:s:f:2:-|A1:d1;", "m1:s:fx", "plain", "|bar", "m1:a:f::-|A1:d1;"];

async function present(get: (state: TempFileState, key: string) => Promise<CacheEntry | undefined>, state: TempFileState): Promise<string[]> {
  const found: string[] = [];
  for (const key of KEYS) if ((await get(state, key)) !== undefined) found.push(key);
  return found;
}

describe.each(Object.entries(modes))("deletePrefix (%s)", (_, ops) => {
  it("a namespace is one directory: moved aside and removed at once, nothing left behind", async () => {
    const state = newState();
    for (const key of KEYS) state.setSync(key, key, null);
    const namespaceDirectory = dirname(dirname(state.entryFile(KEYS[0]!)));
    expect(existsSync(namespaceDirectory)).toBe(true);
    await ops.deletePrefix(state, "m1:s:f::-|");
    expect(existsSync(namespaceDirectory)).toBe(false);
    expect(readdirSync(state.directory).filter((name) => name.startsWith(".trash-"))).toEqual([]);
    expect(await present(ops.get, state)).toEqual(KEYS.slice(2));
  });

  it("a prefix inside a namespace reads the keys back and removes only the matching entries", async () => {
    const state = newState();
    for (const key of KEYS) state.setSync(key, key, null);
    await ops.deletePrefix(state, "m1:s:f::-|A1:d2");
    expect(await present(ops.get, state)).toEqual(KEYS.filter((key) => key !== "m1:s:f::-|A1:d2;"));
  });

  it("a prefix without | matches keys of every namespace that starts with it, and keys without one", async () => {
    const state = newState();
    for (const key of KEYS) state.setSync(key, key, null);
    await ops.deletePrefix(state, "m1:s:f");
    expect(await present(ops.get, state)).toEqual(["plain", "|bar", "m1:a:f::-|A1:d1;"]);
    await ops.deletePrefix(state, "");
    expect(await present(ops.get, state)).toEqual([]);
  });
});

it("writes racing with deletePrefix of their namespace: no error, every read a miss or a complete value", async () => {
  const state = newState();
  const operations: Array<Promise<unknown>> = [];
  for (let i = 0; i < 300; i++) {
    const key = `race|k${i % 20}`;
    operations.push(i % 15 === 0 ? state.deletePrefix("race|") : state.set(key, { key, i }, null));
    if (i % 3 === 0) {
      operations.push(
        state.get(key).then((entry) => {
          if (entry !== undefined && (entry.value as { key: string }).key !== key) throw new Error(`wrong value for ${key}`);
        }),
      );
    }
  }
  const outcomes = await Promise.allSettled(operations);
  expect(outcomes.filter((outcome) => outcome.status === "rejected")).toEqual([]);
  await state.sweep();
  expect(tempFiles(state.directory)).toEqual([]);
});

describe.each([true, false])("fn.clear() through Mime (static: %s)", (isStatic) => {
  it.each(["sync", "async"])("removes this %s function's results and leaves another function with the same arguments intact", async (kind) => {
    const state = newState(isStatic);
    const calls: string[] = [];
    const make = (name: string) => {
      // Names unique to the test: identities are claimed per process, and the functions differ.
      const options = { ttl: 60, state, name: `${name}-${kind}-${isStatic}` };
      return kind === "sync"
        ? Mime(options)((id: number) => (calls.push(`${name} ${id}`), { name, id }))
        : Mime(options)(async (id: number) => (calls.push(`${name} ${id}`), { name, id }));
    };
    const users = make("users");
    const usersAgain = make("usersAgain");
    for (const id of [1, 2, 1, 2]) {
      await users(id);
      await usersAgain(id);
    }
    expect(calls).toHaveLength(4);
    await users.clear();
    expect(await users.peek(1)).toBeUndefined();
    expect(await usersAgain.peek(1)).toEqual({ value: { name: "usersAgain", id: 1 } });
    for (const id of [1, 2]) {
      await users(id);
      await usersAgain(id);
    }
    expect(calls.slice(4)).toEqual(["users 1", "users 2"]);
  });
});
