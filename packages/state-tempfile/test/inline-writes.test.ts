import { TempFileState } from "../src/index";
import { removeTestDirectories, testDirectory } from "./helpers";

afterEach(removeTestDirectories);

// An async set writes small entries on the calling thread (checks included) and large ones, or every
// one with fsync, through the thread pool; either way the same entries are stored, and a fenced write
// that began before an invalidation is refused.
describe.each([
  ["inline (default)", {}],
  ["thread pool only", { inlineWriteBytes: 0 }],
  ["a small threshold", { inlineWriteBytes: 100 }],
  ["fsync", { fsync: true }],
])("async writes, %s", (_, options) => {
  test("small and large entries, tagged and fenced ones, read back by a synchronous get", async () => {
    const state = new TempFileState({ basePath: testDirectory(), static: true, ...options });
    const small = { n: 1 };
    const large = { text: "x".repeat(200_000) };
    await state.set("k|small", small, null);
    await state.set("k|large", large, 600, { tags: ["t"] });
    expect(state.getSync("k|small")).toEqual({ value: small });
    expect(state.getSync("k|large")).toEqual({ value: large });
    const startedAt = performance.timeOrigin + performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2));
    await state.delete("k|fenced");
    await state.set("k|fenced", small, 60, { startedAt }); // began before the invalidation: refused
    expect(state.getSync("k|fenced")).toBeUndefined();
    await state.set("k|fenced", small, 60, { startedAt: performance.timeOrigin + performance.now() });
    expect(state.getSync("k|fenced")).toEqual({ value: small });
    await state.invalidateTags(["t"]);
    expect(state.getSync("k|large")).toBeUndefined();
    await state.close();
  });
});

test("a small entry is stored by the time set() returns its promise (on the calling thread); a large one is not awaited there", async () => {
  const state = new TempFileState({ basePath: testDirectory(), static: true });
  const small = state.set("k|small", { n: 1 }, 60);
  expect(state.getSync("k|small")).toEqual({ value: { n: 1 } });
  await small;
  const pooled = new TempFileState({ basePath: testDirectory(), static: true, inlineWriteBytes: 0 });
  const later = pooled.set("k|pooled", { n: 2 }, 60);
  expect(pooled.getSync("k|pooled")).toBeUndefined();
  await later;
  expect(pooled.getSync("k|pooled")).toEqual({ value: { n: 2 } });
  await Promise.all([state.close(), pooled.close()]);
});

test.each([-1, 1.5, "64k"])("inlineWriteBytes %p is refused", (value) => {
  expect(() => new TempFileState({ inlineWriteBytes: value as number })).toThrow(/option "inlineWriteBytes" must be an integer >= 0/);
});
