import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    // The two builds run concurrently into dist/: this one must not delete the worker's files.
    clean: ["!redis-worker.*"],
    target: "node20",
    tsconfig: "tsconfig.build.json",
    // The sync bridge finds its worker with __dirname, which the ESM build has to shim.
    shims: true,
  },
  {
    // The worker thread's entry: plain CommonJS next to the bundle (a worker cannot load .ts on Node 20),
    // used by both the ESM and the CJS build.
    entry: { "redis-worker": "src/sync/worker.ts" },
    format: ["cjs"],
    dts: false,
    sourcemap: true,
    clean: false,
    target: "node20",
    tsconfig: "tsconfig.build.json",
  },
]);
