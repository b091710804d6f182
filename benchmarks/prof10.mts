import { Mime, MemoryState } from "@mimic/core";
import { TempFileState } from "@mimic/state-tempfile";
import { mkdtempSync } from "node:fs";
import { payloadOfSize } from "./src/data.ts";
const which = process.argv[2] ?? "tempfile";
const size = Number(process.argv[3] ?? 102400);
const payload = payloadOfSize(size);
const state = which === "tempfile" ? new TempFileState({ basePath: mkdtempSync("/tmp/p10-") }) : new MemoryState();
const fn = Mime({ ttl: 3600, state, name: "build" })((_id: number) => payload);
const N = Number(process.argv[4] ?? 2000);
let total = 0;
for (let i = 0; i < N; i++) { const s = performance.now(); fn(7); total += performance.now() - s; fn.invalidate(7); }
console.log(which, size, "µs per miss+store", (total * 1000 / N).toFixed(2));
