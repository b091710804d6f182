// `pnpm docs` (TypeDoc, typedoc.json at the root) documents every publishable package, and in each
// one every entry point its exports map offers, so no public module can be left out of the reference.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../../..");
const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(root, file), "utf8"));

const publishable = readdirSync(path.join(root, "packages"))
  .filter((dir) => existsSync(path.join(root, "packages", dir, "package.json")))
  .filter((dir) => readJson(`packages/${dir}/package.json`).private !== true)
  .map((dir) => `packages/${dir}`)
  .sort();

describe("API reference (typedoc.json)", () => {
  const config = readJson("typedoc.json");

  it("covers every publishable package, as packages, with warnings as errors", () => {
    expect([...(config.entryPoints as string[])].sort()).toEqual(publishable);
    expect(config).toMatchObject({
      entryPointStrategy: "packages",
      out: "docs/api",
      treatWarningsAsErrors: true,
      validation: { notExported: true, invalidLink: true, notDocumented: true },
    });
  });

  it("writes to a directory git ignores", () => {
    expect(readFileSync(path.join(root, ".gitignore"), "utf8").split("\n")).toContain("docs/api/");
  });

  it.each(publishable)("%s: one entry point per subpath of its exports map", (dir) => {
    const exportsMap = readJson(`${dir}/package.json`).exports as Record<string, unknown>;
    const expected = Object.keys(exportsMap)
      .filter((subpath) => subpath !== "./package.json")
      .map((subpath) => (subpath === "." ? "src/index.ts" : `src/${subpath.slice(2)}.ts`))
      .sort();
    const entryPoints = (readJson(`${dir}/typedoc.json`).entryPoints as string[]).slice().sort();
    expect(entryPoints).toEqual(expected);
    for (const file of entryPoints) expect(existsSync(path.join(root, dir, file))).toBe(true);
  });
});
