import { payloadOfSize } from "/work/main/benchmarks/src/data.js";
import { TempFileState } from "@mimic/state-tempfile";
import { mkdtempSync } from "node:fs";
const lib: any = await import(process.argv[2] === "old" ? "/tmp/core-old/index.mjs" : "@mimic/core");
const [, , which, mode, sizeText] = process.argv;
const payload = payloadOfSize(Number(sizeText) * 1024);
const state = new TempFileState({ basePath: mkdtempSync("/tmp/fab-") });
const fn = mode === "async" ? async function a(_: number) { return payload; } : function s(_: number) { return payload; };
const memoized: any = lib.Mime({ ttl: 3600, state, name: "fab." + mode })(fn);
const N = Number(sizeText) > 10 ? 300 : 2000;
const out: number[] = [];
for (let r = 0; r < 7; r++) {
  let t = 0;
  for (let i = 0; i < N; i++) {
    const a = performance.now();
    if (mode === "async") await memoized(7); else memoized(7);
    t += performance.now() - a;
    await memoized.invalidate(7);
  }
  if (r >= 2) out.push((t / N) * 1000);
}
out.sort((x, y) => x - y);
console.log(which, mode, sizeText + "KiB", out[2]!.toFixed(0), "µs");
await state.close();
