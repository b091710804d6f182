#!/usr/bin/env node
// Copies code into the guides: in docs/*.md, a fenced block right after a line
//   <!-- snippet: tests/docs/snippets/name.ts -->
// is replaced by that file's text. The files are what tests/docs runs, so a guide shows exactly
// the code that is tested; tests/docs/test/snippets.test.ts fails when a block has drifted.
//   node scripts/sync-snippets.mjs          rewrite the blocks
//   node scripts/sync-snippets.mjs --check  only report drifted blocks (exit 1 if any)
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SNIPPET = /(<!-- snippet: (\S+) -->\n)```(\w+)\n([\s\S]*?)```/g;

const check = process.argv.includes("--check");
let drifted = 0;
for (const name of readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md"))) {
  const file = path.join(root, "docs", name);
  const text = readFileSync(file, "utf8");
  const updated = text.replace(SNIPPET, (whole, marker, source, lang, body) => {
    const code = readFileSync(path.join(root, source), "utf8");
    if (code !== body) {
      drifted++;
      console.log(`${check ? "drifted" : "updated"}: docs/${name} ← ${source}`);
    }
    return `${marker}\`\`\`${lang}\n${code}\`\`\``;
  });
  if (!check && updated !== text) writeFileSync(file, updated);
}
process.exit(check && drifted > 0 ? 1 : 0);
