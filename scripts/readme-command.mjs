#!/usr/bin/env node
// Prints one of the README's two Quick start commands: `demo` (the first sh block) or `test` (the
// second). .ci/run runs exactly what the README tells users to run.
import { readFileSync } from "node:fs";

const which = process.argv[2];
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
if (!section) throw new Error("README.md has no '## Quick start' section");
const blocks = [...section.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]);
if (blocks.length !== 2) throw new Error(`README.md's Quick start must hold exactly two one-line sh blocks, found ${blocks.length}`);
const index = { demo: 0, test: 1 }[which];
if (index === undefined) throw new Error("usage: readme-command.mjs demo|test");
console.log(blocks[index]);
