// docs/troubleshooting.md lists every error and warning code the packages define, and no other:
// the codes are read from the sources (string literals "MIMIC_…"), so a new code without an entry
// here fails this test.
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith(".ts") ? [file] : [];
  });
}

function codesInSources(): Set<string> {
  const codes = new Set<string>();
  for (const pkg of readdirSync(path.join(root, "packages"))) {
    const src = path.join(root, "packages", pkg, "src");
    for (const file of sourceFiles(src)) {
      for (const match of readFileSync(file, "utf8").matchAll(/["'`](MIMIC_[A-Z0-9_]+)["'`]/g)) codes.add(match[1]!);
    }
  }
  return codes;
}

describe("docs/troubleshooting.md", () => {
  const guide = readFileSync(path.join(root, "docs/troubleshooting.md"), "utf8");
  const headed = new Set([...guide.matchAll(/^### `(MIMIC_[A-Z0-9_]+)`/gm)].map((m) => m[1]!));

  it("has a section for every code in packages/*/src", () => {
    const codes = codesInSources();
    expect(codes.size).toBeGreaterThan(10);
    expect([...codes].filter((code) => !headed.has(code)).sort()).toEqual([]);
  });

  it("has no section for a code the sources do not define", () => {
    const codes = codesInSources();
    expect([...headed].filter((code) => !codes.has(code)).sort()).toEqual([]);
  });
});

describe("docs/troubleshooting.md: the errors happen as it says", () => {
  // Imported here so the source scan above does not depend on the packages loading.
  const { Mime } = require("@mimic/core") as typeof import("@mimic/core");
  const { isMisconfiguration, reportTo } = require("../snippets/troubleshooting") as typeof import("../snippets/troubleshooting");
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };

  afterEach(() => Mime.setConfig({}));

  it("thrown where the mistake is made", () => {
    expect(code(() => Mime({ tll: 60 } as never))).toBe("MIMIC_INVALID_OPTION");
    expect(code(() => Mime({ ttl: "60" } as never))).toBe("MIMIC_INVALID_OPTION");
    expect(code(() => Mime({ staleWhileRevalidate: 5 }))).toBe("MIMIC_INVALID_OPTION");
    expect(code(() => Mime({ ttl: -1 }))).toBe("MIMIC_INVALID_TTL");
    class User {
      constructor(readonly id: string) {}
    }
    const byUser = Mime({ ttl: 1 })((user: User) => user.id);
    expect(code(() => byUser(new User("1")))).toBe("MIMIC_UNSUPPORTED_ARGUMENT");
    expect(Mime({ ttl: 1, key: (user: User) => user.id })((user: User) => user.id)(new User("1"))).toBe("1");
    expect(code(() => Mime({ state: { get: async () => undefined } } as never))).toBe("MIMIC_STATE_CONTRACT");
    expect(code(() => Mime({ ttl: 1 })(function* numbers() {
      yield 1;
    }))).toBe("MIMIC_CONFIG");
    expect(isMisconfiguration(new Error("x"))).toBe(false);
  });

  it("a sync function on an async-only state is a MIMIC_CONFIG that isMisconfiguration recognises", () => {
    const asyncOnly = { get: async () => undefined, set: async () => undefined, delete: async () => undefined, clear: async () => undefined };
    let caught: unknown;
    try {
      Mime({ state: asyncOnly })((n: number) => n);
    } catch (error) {
      caught = error;
    }
    expect(isMisconfiguration(caught)).toBe(true);
  });

  it("backend errors are absorbed and reported with their code to the log", async () => {
    const lines: Array<{ code: string; fn: string; op: string }> = [];
    await reportTo({ warn: (fields) => lines.push(fields) });
    const down = new Error("connection refused");
    const state = {
      get: async () => Promise.reject(down),
      set: async () => Promise.reject(down),
      delete: async () => undefined,
      clear: async () => undefined,
    };
    let runs = 0;
    const f = Mime({ ttl: 60, state })(async function lookup() {
      return ++runs;
    });
    expect(await f()).toBe(1); // the function ran: the call fails open
    expect(lines[0]).toMatchObject({ code: "MIMIC_STATE_ERROR", fn: "lookup", op: "get" });
  });
});
