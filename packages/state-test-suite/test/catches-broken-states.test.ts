import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { brokenCapabilityCases } from "./fixtures/broken-capabilities.js";
import { brokenLockCases } from "./fixtures/broken-locks.js";
import { brokenCases, type BrokenCase } from "./fixtures/broken-states.js";

/**
 * The suite is only worth running if it fails for broken states. This runs it, in a child jest,
 * against states that each have one realistic bug (test/fixtures/broken-states.ts), and checks that
 * the right tests fail, with a message that says what is wrong, and that no unrelated test does.
 */
interface AssertionResult {
  ancestorTitles: string[];
  title: string;
  status: string;
  failureMessages: string[];
}

let results: AssertionResult[] = [];

beforeAll(() => {
  const dir = mkdtempSync(path.join(tmpdir(), "mimic-suite-meta-"));
  try {
    const outputFile = path.join(dir, "results.json");
    const child = spawnSync(
      process.execPath,
      [
        require.resolve("jest/bin/jest"),
        "--config",
        path.join(__dirname, "fixtures", "jest.config.cjs"),
        "--ci",
        "--silent",
        "--maxWorkers=2",
        "--json",
        `--outputFile=${outputFile}`,
      ],
      { cwd: path.join(__dirname, ".."), encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } },
    );
    const report = JSON.parse(readFileSync(outputFile, "utf8")) as {
      numRuntimeErrorTestSuites: number;
      testResults: { message: string; assertionResults: AssertionResult[] }[];
    };
    if (report.numRuntimeErrorTestSuites > 0 || report.testResults.length === 0) {
      throw new Error(`the child jest run could not run the fixtures:\n${report.testResults[0]?.message ?? child.stderr}`);
    }
    results = report.testResults.flatMap((file) => file.assertionResults);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

/** `"group/title fragment"`: the title contains the last part, an ancestor each earlier part. */
function matches(result: AssertionResult, pattern: string): boolean {
  const parts = pattern.split("/");
  const title = parts.pop()!;
  return result.title.includes(title) && parts.every((part) => result.ancestorTitles.some((a) => a.includes(part)));
}

function mentions(result: AssertionResult, fragment: string): boolean {
  return result.title.includes(fragment) || result.ancestorTitles.some((a) => a.includes(fragment));
}

describe.each([...brokenCases, ...brokenCapabilityCases, ...brokenLockCases].map((c): [string, BrokenCase] => [c.options.name, c]))("a state that %s", (_name, brokenCase) => {
  const own = () => results.filter((r) => r.ancestorTitles[0] === brokenCase.options.name);

  test("every registered test ran (none skipped)", () => {
    expect(own().length).toBeGreaterThan(30);
    expect(own().filter((r) => r.status !== "passed" && r.status !== "failed")).toEqual([]);
  });

  test.each(brokenCase.catches.map((pattern) => [pattern]))("fails the suite: %s", (pattern) => {
    const caught = own().filter((r) => matches(r, pattern));
    expect(caught.length).toBeGreaterThan(0);
    expect(caught.map((r) => [r.title, r.status])).toEqual(caught.map((r) => [r.title, "failed"]));
  });

  test(`says what is wrong ("${brokenCase.says}")`, () => {
    const messages = own().flatMap((r) => r.failureMessages);
    expect(messages.some((m) => m.includes(brokenCase.says))).toBe(true);
  });

  test("fails no test outside the behaviour it breaks", () => {
    const unrelated = own().filter((r) => r.status === "failed" && !brokenCase.confinedTo.some((f) => mentions(r, f)));
    expect(unrelated.map((r) => [...r.ancestorTitles, r.title].join(" › "))).toEqual([]);
  });
});
