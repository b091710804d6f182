import { spawnSync } from "node:child_process";
import path from "node:path";

// NODE_DEBUG=mimic logs hits, misses, writes and errors through util.debuglog (on stderr); without
// it nothing is printed. Runs the built package in a child process, as a user's app would.
const script = `
const { Mime, MemoryState } = require(${JSON.stringify(path.resolve(__dirname, "../dist/index.js"))});
const broken = { get: async () => { throw new Error("backend down"); }, set: async () => {}, delete: async () => {}, clear: async () => {} };
const double = Mime({ ttl: 60, state: new MemoryState() })(function double(n) { return n * 2; });
double(1); double(1);
Mime({ state: broken, name: "flaky", onError: () => {} })(async (n) => n)(1).then(() => console.log("done"));
`;

function run(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });
}

test("NODE_DEBUG=mimic logs hits, misses, writes and errors", () => {
  const { stdout, stderr } = run({ NODE_DEBUG: "mimic" });
  expect(stdout.trim()).toBe("done");
  expect(stderr).toMatch(/MIMIC \d+: miss double on MemoryState key=.*ms/);
  expect(stderr).toMatch(/MIMIC \d+: set double on MemoryState/);
  expect(stderr).toMatch(/MIMIC \d+: hit double on MemoryState/);
  expect(stderr).toMatch(/MIMIC \d+: error flaky on Object .*get failed: MIMIC_STATE_ERROR .*backend down/);
});

test("without NODE_DEBUG nothing is logged", () => {
  const { stdout, stderr } = run({ NODE_DEBUG: "" });
  expect(stdout.trim()).toBe("done");
  expect(stderr).toBe("");
});
