import { payloadOfSize } from "/work/main/benchmarks/src/data.js";
import { TempFileState } from "@mimic/state-tempfile";
import { Mime } from "@mimic/core";
import { mkdtempSync } from "node:fs";
const payload = payloadOfSize(1024);
const state = new TempFileState({ basePath: mkdtempSync("/tmp/fone-") });
const memoized: any = Mime({ ttl: 3600, state, name: "fone" })(function s(_: number) { return payload; });
memoized(7); await memoized.invalidate(7); memoized(7); await memoized.invalidate(7);
console.error("MARK-START");
for (let i = 0; i < 10; i++) { memoized(7); await memoized.invalidate(7); }
console.error("MARK-END");
await state.close();
