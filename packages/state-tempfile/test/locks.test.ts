import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidTtlError, digestKey } from "@mimic/core";
import { TempFileState } from "../src";
import { LEASE_GRACE_MS } from "../src/locks";
import {
  lastJson,
  pause,
  removeTestDirectories,
  startChild,
  testDirectory,
  waitForExit,
  waitForOutput,
  type ChildResult,
} from "./helpers";

afterEach(removeTestDirectories);

const states: TempFileState[] = [];
afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
});

function newState(basePath = testDirectory(), isStatic = true): TempFileState {
  const state = new TempFileState({ basePath, static: isStatic });
  states.push(state);
  return state;
}

function leaseFile(state: TempFileState, key: string): string {
  return join(state.directory, "l2", digestKey(key));
}

describe("lock and unlock", () => {
  it.each([true, false])("one holder at a time; unlock needs the holder's token (static: %s)", async (isStatic) => {
    const state = newState(testDirectory(), isStatic);
    const token = await state.lock("f|k", 10);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(await state.lock("f|k", 10)).toBeUndefined();
    expect(await state.lock("f|other", 10)).toEqual(expect.any(String));
    await state.unlock("f|k", "not the token");
    expect(await state.lock("f|k", 10)).toBeUndefined();
    await state.unlock("f|k", token!);
    expect(existsSync(leaseFile(state, "f|k"))).toBe(false);
    const next = await state.lock("f|k", 10);
    expect(next).toEqual(expect.any(String));
    expect(next).not.toBe(token);
  });

  it("a lease is a complete file, mode 0600, holding the token and the expiry; nothing else is left", async () => {
    const state = newState();
    const before = Date.now();
    const token = await state.lock("f|k", 2.5);
    const file = leaseFile(state, "f|k");
    const lease = JSON.parse(readFileSync(file, "utf8")) as { token: string; expiresAt: number; pid: number };
    expect(lease).toEqual({ token, expiresAt: expect.any(Number), pid: process.pid });
    expect(lease.expiresAt).toBeGreaterThanOrEqual(before + 2500);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(state.directory, "l2"))).toEqual([digestKey("f|k")]);
  });

  it("50 concurrent lock calls on one key: exactly one token", async () => {
    const basePath = testDirectory();
    const sharing = [newState(basePath), newState(basePath), newState(basePath)];
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => sharing[i % 3]!.lock("f|hot", 10)));
    expect(tokens.filter((token) => token !== undefined)).toHaveLength(1);
  });

  it("an expired lease is taken over, and its former holder's unlock leaves the new lease alone", async () => {
    const state = newState();
    const old = await state.lock("f|k", 0.05);
    await pause(80);
    const fresh = await state.lock("f|k", 10);
    expect(fresh).toEqual(expect.any(String));
    await state.unlock("f|k", old!);
    expect(await state.lock("f|k", 10)).toBeUndefined();
    await state.unlock("f|k", fresh!);
    expect(await state.lock("f|k", 10)).toEqual(expect.any(String));
  });

  it("20 concurrent takeovers of one expired lease: exactly one wins", async () => {
    const state = newState();
    await state.lock("f|k", 0.02);
    await pause(50);
    const others = Array.from({ length: 4 }, () => newState(join(state.directory, "..")));
    expect(others[0]!.directory).toBe(state.directory);
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => others[i % 4]!.lock("f|k", 10)));
    expect(tokens.filter((token) => token !== undefined)).toHaveLength(1);
  });

  it("a damaged lease file is never valid: it is taken over", async () => {
    const state = newState();
    mkdirSync(join(state.directory, "l2"), { recursive: true });
    writeFileSync(leaseFile(state, "f|k"), "{ not json");
    expect(await state.lock("f|k", 10)).toEqual(expect.any(String));
  });

  it("releasing a lease near its end goes through the guard and leaves no guard behind", async () => {
    const state = newState();
    const token = await state.lock("f|k", 0.5);
    await state.unlock("f|k", token!);
    expect(readdirSync(join(state.directory, "l2"))).toEqual([]);
  });

  it("a guard abandoned by a process that died is removed after a few seconds", async () => {
    const state = newState();
    await state.lock("f|k", 0.02);
    const guard = `${leaseFile(state, "f|k")}.guard`;
    writeFileSync(guard, "");
    await pause(40);
    expect(await state.lock("f|k", 10)).toBeUndefined();
    const longAgo = new Date(Date.now() - 10_000);
    utimesSync(guard, longAgo, longAgo);
    expect(await state.lock("f|k", 10)).toEqual(expect.any(String));
    expect(existsSync(guard)).toBe(false);
  });

  it("the sweep removes leases expired for over a minute and abandoned guards, not live leases", async () => {
    const state = newState();
    await state.lock("f|live", 60);
    const dead = leaseFile(state, "f|dead");
    writeFileSync(dead, JSON.stringify({ token: "t", expiresAt: Date.now() - LEASE_GRACE_MS - 1000, pid: 1 }));
    const recent = leaseFile(state, "f|recent");
    writeFileSync(recent, JSON.stringify({ token: "t", expiresAt: Date.now() - 1000, pid: 1 }));
    const guard = `${leaseFile(state, "f|x")}.guard`;
    writeFileSync(guard, "");
    const longAgo = new Date(Date.now() - 10_000);
    utimesSync(guard, longAgo, longAgo);
    const report = await state.sweep();
    expect(report).toMatchObject({ leases: 1, orphans: 1 });
    expect([dead, recent, guard, leaseFile(state, "f|live")].map(existsSync)).toEqual([false, true, false, true]);
  });

  it.each([0, -1, Number.NaN, Infinity])("rejects a lease of %p seconds", async (lease) => {
    const state = newState();
    await expect(state.lock("f|k", lease)).rejects.toThrow(InvalidTtlError);
  });
});

interface LockOutput {
  fulfilled: number;
  failed: number;
  failures: string[];
  distinct: string[];
  elapsedMs: number;
  finishedAt: number;
  errors: string[];
}

/** Starts lock.mjs processes, waits until all are ready, and lets them all call at once. */
async function startRace(count: number, config: Record<string, unknown>): Promise<{ pids: number[]; done: Array<Promise<ChildResult>> }> {
  const children = Array.from({ length: count }, () => startChild("lock.mjs", [JSON.stringify(config)], { stdin: true }));
  const done = children.map((child) => waitForExit(child));
  await Promise.all(children.map((child) => waitForOutput(child, "ready")));
  for (const child of children) child.stdin!.end("go\n");
  return { pids: children.map((child) => child.pid!), done };
}

function executions(log: string): Array<[number, string]> {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [pid, what] = line.split(" ");
      return [Number(pid), what as string];
    });
}

describe("Mime({ lock }) across processes on a static directory", () => {
  it("4 processes × 100 concurrent calls of a cold key: exactly 1 execution in total", async () => {
    const basePath = testDirectory();
    const log = join(basePath, "executions.log");
    writeFileSync(log, "");
    const { done } = await startRace(4, { basePath, log, concurrency: 100, functionMs: 1000, lease: 10, timeout: 30 });
    const outputs = (await Promise.all(done)).map((result) => lastJson<LockOutput>(result));
    expect(executions(log).filter(([, what]) => what === "start")).toHaveLength(1);
    for (const output of outputs) expect(output).toMatchObject({ fulfilled: 100, failed: 0, errors: [] });
    expect(new Set(outputs.flatMap((output) => output.distinct)).size).toBe(1);
  });

  it("the holder SIGKILLed mid-execution: another process takes over after the lease, 0 failed calls", async () => {
    const basePath = testDirectory();
    const log = join(basePath, "executions.log");
    writeFileSync(log, "");
    const lease = 1;
    const timeout = 30;
    const functionMs = 300;
    const config = { basePath, log, concurrency: 20, functionMs, lease, timeout, hangFirst: true };
    const children = Array.from({ length: 3 }, () => startChild("lock.mjs", [JSON.stringify(config)], { stdin: true }));
    const done = children.map((child) => waitForExit(child));
    await Promise.all(children.map((child) => waitForOutput(child, "ready")));
    const running = Promise.any(children.map((child) => waitForOutput(child, "running").then(() => child)));
    for (const child of children) child.stdin!.end("go\n");
    const holder = await running;
    holder.kill("SIGKILL");
    const killedAt = Date.now();

    const results = await Promise.all(done);
    const survivors = children.flatMap((child, i) => (child === holder ? [] : [lastJson<LockOutput>(results[i]!)]));
    expect(results[children.indexOf(holder)]!.signal).toBe("SIGKILL");
    for (const output of survivors) expect(output).toMatchObject({ fulfilled: 20, failed: 0 });
    expect(new Set(survivors.flatMap((output) => output.distinct)).size).toBe(1);
    const runs = executions(log);
    // The holder started and never ended; exactly one survivor ran the function after it.
    expect(runs.filter(([, what]) => what === "start").map(([pid]) => pid === holder.pid)).toEqual([true, false]);
    expect(runs.filter(([, what]) => what === "end")).toHaveLength(1);
    // Taken over, not run after giving up waiting: well before the lock timeout (the expected time is
    // the lease plus the function, about 1.3 s, more on a loaded machine).
    const completedAfterKill = Math.max(...survivors.map((output) => output.finishedAt)) - killedAt;
    expect(completedAfterKill).toBeLessThan((timeout * 1000) / 2);
  });
});
