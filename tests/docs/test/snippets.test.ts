// The guides show exactly the code this package runs, and their links lead somewhere.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");
const REPOSITORY = "https://github.com/mimic-memo/mimic/";
const guides = readdirSync(path.join(root, "docs"))
  .filter((name) => name.endsWith(".md"))
  .map((name) => ({ name: `docs/${name}`, text: readFileSync(path.join(root, "docs", name), "utf8") }));
const packageReadmes = readdirSync(path.join(root, "packages")).map((pkg) => ({
  name: `packages/${pkg}/README.md`,
  text: readFileSync(path.join(root, "packages", pkg, "README.md"), "utf8"),
}));

/** Markdown links `[text](target)`, outside fenced code. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe("guides in docs/", () => {
  it("show every snippet exactly as in tests/docs/snippets (node scripts/sync-snippets.mjs --check)", () => {
    let output = "";
    try {
      execFileSync(process.execPath, [path.join(root, "scripts/sync-snippets.mjs"), "--check"], { encoding: "utf8" });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toBe("");
  });

  it("show every snippet file (none is tested but missing from a guide)", () => {
    const shown = new Set(guides.flatMap(({ text }) => [...text.matchAll(/<!-- snippet: (\S+) -->/g)].map((m) => m[1]!)));
    const files = readdirSync(path.join(__dirname, "../snippets")).map((name) => `tests/docs/snippets/${name}`);
    expect(files.filter((file) => !shown.has(file))).toEqual([]);
    expect([...shown].filter((file) => !existsSync(path.join(root, file)))).toEqual([]);
  });

  it.each(guides.map(({ name, text }) => [name, text]))("%s: relative links point at files that exist", (name, text) => {
    const broken = links(text)
      .filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith("#"))
      .filter((target) => !existsSync(path.resolve(root, path.dirname(name), target.split("#")[0]!)));
    expect(broken).toEqual([]);
  });
});

describe("package READMEs (shown on npm, where relative links break)", () => {
  it.each(packageReadmes.map(({ name, text }) => [name, text]))("%s: links are absolute or in-page", (name, text) => {
    expect(links(text).filter((target) => !/^https?:\/\//.test(target) && !target.startsWith("#"))).toEqual([]);
  });

  it.each(packageReadmes.map(({ name, text }) => [name, text]))("%s: links into the repository name files that exist", (name, text) => {
    const missing = links(text)
      .filter((target) => target.startsWith(REPOSITORY))
      .map((target) => target.slice(REPOSITORY.length).split("#")[0]!.replace(/^(blob|tree)\/main\/?/, ""))
      .filter((file) => !existsSync(path.join(root, file)));
    expect(missing).toEqual([]);
  });
});
