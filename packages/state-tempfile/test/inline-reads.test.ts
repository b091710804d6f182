import { Mime } from "@mimic/core";
import { TempFileState } from "../src/index";
import { removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

// An async get reads small entries on the calling thread and large ones through the thread pool;
// either way it returns the same entries, and a corrupt or missing file is the same miss.
describe.each([
  ["inline (default)", {}],
  ["thread pool only", { inlineReadBytes: 0 }],
  ["a small threshold", { inlineReadBytes: 100 }],
])("async reads, %s", (_, options) => {
  test("small and large entries, misses, and values written by setSync", async () => {
    const state = new TempFileState({ basePath: testDirectory(), static: true, ...options });
    const small = { n: 1 };
    const large = { text: "x".repeat(200_000) };
    await state.set("k|small", small, null);
    state.setSync("k|large", large, 600);
    expect(await state.get("k|small")).toEqual({ value: small });
    expect(await state.get("k|large")).toEqual({ value: large });
    expect(await state.get("k|missing")).toBeUndefined();
    await state.delete("k|small");
    expect(await state.get("k|small")).toBeUndefined();
    await state.close();
  });

  test("through Mime, a second call is a hit", async () => {
    const state = new TempFileState({ basePath: testDirectory(), static: true, ...options });
    let calls = 0;
    const f = Mime({ state, name: "inline-reads" })(async (n: number) => (calls++, { n }));
    await f(1);
    await expect(f(1)).resolves.toEqual({ n: 1 });
    expect(calls).toBe(1);
    await state.close();
  });
});

test.each([-1, 1.5, "64k"])("inlineReadBytes %p is refused", (value) => {
  expect(() => new TempFileState({ inlineReadBytes: value as number })).toThrow(/option "inlineReadBytes" must be an integer >= 0/);
});
