import { TempFileState } from "../src";
import {
  entryFiles,
  lastJson,
  removeTestDirectories,
  runChild,
  startChild,
  tempFiles,
  testDirectory,
  waitForExit,
  waitForOutput,
} from "./helpers";

afterEach(removeTestDirectories);

interface ShareOutput {
  calls: number;
  results: Array<[number, number, boolean]>;
  errors: string[];
}

describe.each(["sync", "async"])("two processes on one static directory (%s function)", (kind) => {
  it("process A misses and stores, process B hits without calling the function", async () => {
    const basePath = testDirectory();
    const a = lastJson<ShareOutput>(await runChild("share.mjs", [basePath, kind]));
    const b = lastJson<ShareOutput>(await runChild("share.mjs", [basePath, kind]));
    const expected = [
      [7, 49, true],
      [8, 64, true],
    ];
    expect(a).toEqual({ calls: 2, results: expected, errors: [] });
    expect(b).toEqual({ calls: 0, results: expected, errors: [] });
  });
});

interface HammerOutput {
  reads: number;
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  wrong: number;
  exceptions: number;
  exceptionMessages: string[];
  backgroundErrors: string[];
}

it("four processes hammering the same 50 keys: no exception, every read a miss or the right value", async () => {
  const basePath = testDirectory();
  const outputs = await Promise.all(
    [0, 1, 2, 3].map(async (id) => lastJson<HammerOutput>(await runChild("hammer.mjs", [basePath, "3000", String(id)]))),
  );
  for (const output of outputs) {
    expect(output).toMatchObject({ wrong: 0, exceptions: 0, exceptionMessages: [], backgroundErrors: [] });
    expect(output.reads).toBe(output.hits + output.misses);
    expect(output.hits).toBeGreaterThan(0);
    expect(output.writes).toBeGreaterThan(0);
  }
  const state = new TempFileState({ basePath, static: true });
  expect(tempFiles(state.directory)).toEqual([]);
  await state.close();
});

it("a writer SIGKILLed mid-write leaves only complete entries; the sweep removes its temp files", async () => {
  const basePath = testDirectory();
  let rounds = 0;
  let leftovers = 0;
  // At least ten kills, and on until one of them has left a temporary file behind (writes of 1-4 MiB
  // make that likely on the first rounds); the bound keeps a pathological disk from looping forever.
  while (rounds < 10 || (leftovers === 0 && rounds < 40)) {
    rounds++;
    const writer = startChild("writer.mjs", [basePath]);
    const exited = waitForExit(writer);
    await waitForOutput(writer, "ready");
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 150));
    writer.kill("SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");
    const state = new TempFileState({ basePath, static: true });
    leftovers = Math.max(leftovers, tempFiles(state.directory).length);
    await state.close();
  }

  const state = new TempFileState({ basePath, static: true, sweepEvery: 0 });
  const files = entryFiles(state.directory);
  expect(files.length).toBeGreaterThan(0);
  expect(files.length).toBeLessThanOrEqual(20);
  let hits = 0;
  for (let i = 0; i < 20; i++) {
    const key = `writer|k${i}`;
    const entry = i % 2 === 0 ? state.getSync(key) : await state.get(key);
    if (entry === undefined) continue;
    hits++;
    const value = entry.value as { key: string; round: string; data: string };
    const unit = `${key}/${value.round};`;
    expect(value.key).toBe(key);
    expect(value.data).toBe(unit.repeat(value.data.length / unit.length));
  }
  expect(hits).toBe(files.length);
  expect(leftovers).toBeGreaterThan(0);
  const report = await state.sweep();
  expect(report.orphans).toBeGreaterThan(0);
  expect(report.corrupt).toBe(0);
  expect(tempFiles(state.directory)).toEqual([]);
  await state.close();
});

describe("a function that returns promises without being async, in a process that never calls it", () => {
  const read = async (basePath: string, release: number) => lastJson<{ value: { release: number }; ran: number }>(await runChild("promise-fn.mjs", [basePath, "read", String(release)]));

  it.each(["invalidate", "clear"])("its %s removes the entry another process stored (as an async one)", async (action) => {
    const basePath = testDirectory();
    expect(await read(basePath, 1)).toEqual({ value: { id: 1, release: 1 }, ran: 1 });
    expect(await read(basePath, 2)).toEqual({ value: { id: 1, release: 1 }, ran: 0 });
    expect(lastJson(await runChild("promise-fn.mjs", [basePath, "peek", "0"]))).toEqual({ peeked: { id: 1, release: 1 } });
    expect(lastJson(await runChild("promise-fn.mjs", [basePath, action, "0"]))).toEqual({ answered: "undefined" });
    expect(lastJson(await runChild("promise-fn.mjs", [basePath, "peek", "0"]))).toEqual({ peeked: null });
    expect(await read(basePath, 3)).toEqual({ value: { id: 1, release: 3 }, ran: 1 });
  });
});
