import { type ChildProcess, fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type RunContext, SkipScenario } from "../context.js";
import type { Scenario } from "../scenario.js";
import type { Goal, Row } from "../types.js";

const PROCESSES = 4;
const CALLERS = 100;
const FUNCTION_MS = 50;
/** A round that has not settled by then is a broken scenario, not a slow one. */
const ROUND_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 60_000;

const workerPath = fileURLToPath(new URL("../children/cold-key-worker.mjs", import.meta.url));

type StateName = "tempfile" | "redis";
interface RowSpec {
  readonly id: string;
  readonly state: StateName;
  readonly locked: boolean;
  readonly name: string;
  readonly reference: boolean;
}

const STATE_LABEL: Record<StateName, string> = {
  tempfile: "TempFileState({ static: true })",
  redis: "RedisState",
};

function rowSpecs(states: readonly StateName[]): RowSpec[] {
  return states.flatMap((state) =>
    [true, false].map((locked) => ({
      id: `${state}:${locked ? "lock" : "nolock"}`,
      state,
      locked,
      name: `Mimic: Mime({ ttl, state: ${STATE_LABEL[state]}${locked ? ", lock: true" : ""} })(asyncFn)${locked ? "" : " (no lock)"}`,
      reference: state === "tempfile" && !locked,
    })),
  );
}

interface Done {
  type: "done";
  row: string;
  key: string;
  executions: number;
  failures: string[];
  errors: string[];
}

/** One child process: forked once, answers every round of every row. */
class Worker {
  private readonly child: ChildProcess;
  private waiting: ((message: Done) => void) | undefined;
  private failed: ((error: Error) => void) | undefined;
  readonly ready: Promise<void>;

  constructor(config: unknown, index: number) {
    this.child = fork(workerPath, [JSON.stringify(config)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${index} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      this.child.on("message", (message: { type: string }) => {
        if (message.type === "ready") {
          clearTimeout(timer);
          resolve();
        } else if (message.type === "done") this.waiting?.(message as Done);
      });
      this.child.on("exit", (code, signal) => {
        clearTimeout(timer);
        const error = new Error(`worker ${index} exited (code ${code}, signal ${signal})`);
        reject(error);
        this.failed?.(error);
      });
    });
  }

  /** Sends "go" and resolves with the child's report once its 100 calls settled. */
  go(row: string, key: string): Promise<Done> {
    return new Promise<Done>((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.child.send({ type: "go", row, key });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "exit" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Which states can run here: a class that leases keys, and for Redis a server; else the reason. */
async function availableStates(context: RunContext): Promise<{ states: Partial<Record<StateName, unknown>>; skipped: Partial<Record<StateName, string>> }> {
  const states: Partial<Record<StateName, unknown>> = {};
  const skipped: Partial<Record<StateName, string>> = {};
  const leases = (constructor: { prototype: unknown }): boolean =>
    typeof (constructor.prototype as { lock?: unknown }).lock === "function" &&
    typeof (constructor.prototype as { unlock?: unknown }).unlock === "function";
  try {
    const TempFileState = await context.tempFileState();
    if (leases(TempFileState)) states.tempfile = { basePath: context.tempDir("s5b-shared") };
    else skipped.tempfile = "TempFileState has no lock yet";
  } catch (error) {
    if (!(error instanceof SkipScenario)) throw error;
    skipped.tempfile = error.message;
  }
  try {
    const RedisState = await context.redisState();
    if (leases(RedisState)) {
      const server = await context.redis();
      states.redis = { url: server.url, prefix: `s5b-${process.pid}-${Date.now()}:` };
    } else skipped.redis = "RedisState has no lock yet";
  } catch (error) {
    if (!(error instanceof SkipScenario)) throw error;
    skipped.redis = error.message;
  }
  return { states, skipped };
}

const table = {
  id: "5b",
  title: `${CALLERS} concurrent misses of one cold key from ${PROCESSES} processes`,
  measures: `one round: ${PROCESSES} processes each start ${CALLERS} calls of the same new key at a "go" message (the function takes ~${FUNCTION_MS} ms), until the last process reports all its calls settled`,
};

export const crossProcessMisses: Scenario = {
  id: "5b",
  title: table.title,
  tables: [table],
  async run(context) {
    const { states, skipped } = await availableStates(context);
    const present = (["tempfile", "redis"] as const).filter((state) => states[state] !== undefined);
    if (present.length === 0) throw new SkipScenario(Object.values(skipped).join("; "));
    const specs = rowSpecs(present);
    const rounds = context.settings.quick ? 3 : 10;
    const executionsFile = path.join(context.tempDir("s5b-executions"), "executions.log");
    writeFileSync(executionsFile, "");

    const config = { states, concurrency: CALLERS, functionMs: FUNCTION_MS, executionsFile };
    const workers = Array.from({ length: PROCESSES }, (_, i) => new Worker(config, i));
    context.defer(() => Promise.all(workers.map((w) => w.stop())));
    await Promise.all(workers.map((w) => w.ready));

    const runTag = `${process.pid}-${Date.now()}`;
    const settle = new Map<string, number[]>(specs.map((s) => [s.id, []]));
    const perRound = new Map<string, number[]>(specs.map((s) => [s.id, []]));
    const reported: string[] = [];

    const round = async (spec: RowSpec, key: string): Promise<{ ns: number; executions: number }> => {
      const started = process.hrtime.bigint();
      const reports = Promise.all(workers.map((w) => w.go(spec.id, key)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${spec.name}: round ${key} not settled after ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
      });
      const done = await Promise.race([reports, timeout]).finally(() => clearTimeout(timer));
      const ns = Number(process.hrtime.bigint() - started);
      for (const report of done) {
        if (report.failures.length > 0) throw new Error(`${spec.name}, key ${key}: ${report.failures.join("; ")}`);
        for (const error of report.errors) reported.push(`${spec.id}: ${error}`);
      }
      const claimed = done.reduce((sum, report) => sum + report.executions, 0);
      const logged = readFileSync(executionsFile, "utf8").split("\n").filter((line) => line.endsWith(` ${key}`)).length;
      if (logged !== claimed) throw new Error(`${spec.name}, key ${key}: ${logged} executions in the shared log, ${claimed} counted by the processes`);
      return { ns, executions: logged };
    };

    // Round 0 warms up every row (JIT, connections, the state's directories); it is not reported.
    for (let r = 0; r <= rounds; r++) {
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[(i + r) % specs.length]!; // rotated, so no row always runs first
        const result = await round(spec, `cold-${runTag}-${spec.id}-${r}`);
        if (r === 0) continue;
        settle.get(spec.id)!.push(result.ns);
        perRound.get(spec.id)!.push(result.executions);
      }
    }

    const referenceMedian = median([...settle.get(specs.find((s) => s.reference)?.id ?? specs[0]!.id)!].sort((a, b) => a - b));
    const rows: Row[] = specs.map((spec) => {
      const times = [...settle.get(spec.id)!].sort((a, b) => a - b);
      const mid = median(times);
      const deviations = times.map((t) => Math.abs(t - mid)).sort((a, b) => a - b);
      const executions = perRound.get(spec.id)!;
      return {
        name: spec.name,
        reference: spec.reference,
        medianNs: mid,
        p10Ns: times[Math.floor((times.length - 1) * 0.1)]!,
        opsPerSec: 1e9 / mid,
        ratio: mid / referenceMedian,
        samples: times.length,
        opsPerSample: 1,
        madPct: (median(deviations) / mid) * 100,
        executionsWhileMeasuring: executions.reduce((a, b) => a + b, 0),
        extra: {
          [`executions per round (${PROCESSES} × ${CALLERS} calls)`]: executions.join(" "),
          "max / round": Math.max(...executions),
          rounds: executions.length,
        },
      };
    });

    const goals: Goal[] = (["tempfile", "redis"] as const).map((state) => {
      const text = `(5b) exactly one execution per round across ${PROCESSES} processes × ${CALLERS} calls, ${STATE_LABEL[state]} with lock: true`;
      if (skipped[state] !== undefined) return { text, met: null, detail: `skipped: ${skipped[state]}` };
      const executions = perRound.get(`${state}:lock`)!;
      const nolock = perRound.get(`${state}:nolock`)!;
      return {
        text,
        met: executions.every((n) => n === 1),
        detail: `executions per round ${executions.join(" ")} over ${executions.length} rounds (without lock: ${nolock.join(" ")})`,
      };
    });
    const notes = [
      ...(Object.entries(skipped) as [StateName, string][]).map(([state, reason]) => `${STATE_LABEL[state]} rows skipped: ${reason}`),
      `Each round uses a new key; the processes stay up between rounds (round 0, a warm-up, is not reported). Rows run in rotated order within a round.`,
      `Executions are counted in each process and, independently, as lines appended to one shared file; the two counts must agree. Without a lock each process still coalesces its own ${CALLERS} calls, so up to ${PROCESSES} executions per round are expected there.`,
      `Waiters poll the state with backoff (first after 20 ms, then ×1.5 each time, at most 250 ms), so with a lock a round can end up to one poll interval after the holder stored the value; the function itself takes ~${FUNCTION_MS} ms.`,
      ...(reported.length > 0 ? [`errors reported to onError: ${reported.length} (first: ${reported.slice(0, 3).join(" | ")})`] : []),
    ];
    return [{ ...table, rows, goals, notes }];
  },
};
