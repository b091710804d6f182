// @ts-check
// Uses every state the way an application does (Redis with sync and async functions, so its worker
// thread starts; temp files, private and static, with sweep timers; memory with its sweep timer),
// closes them, prints what still keeps the event loop alive, and must then exit by itself: nothing
// here calls process.exit. argv[2] is { redisUrl, basePath, leak? } as JSON; with `leak`, the Redis
// state is left open (such a process must exit by itself too). Prints one JSON line per step.
import { Mime, MemoryState } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { TempFileState } from "@mimic/state-tempfile";

/** @type {{ redisUrl: string, basePath: string, leak?: boolean }} */
const config = JSON.parse(process.argv[2] ?? "{}");
/** @type {Record<string, number>} */
const reported = {};
const onError = (/** @type {import("@mimic/core").MimicError} */ error) => {
  reported[error.code] = (reported[error.code] ?? 0) + 1;
};

const states = {
  redis: new RedisState({ url: config.redisUrl, prefix: "reliability:hygiene:" }),
  privateFiles: new TempFileState({ basePath: config.basePath, sweepInterval: 0.05 }),
  staticFiles: new TempFileState({ basePath: config.basePath, static: true, sweepInterval: 0.05 }),
  memory: new MemoryState({ maxEntries: 100, sweepInterval: 0.05 }),
};

const results = [];
for (const [name, state] of Object.entries(states)) {
  const syncSquare = Mime({ state, name: `hygiene.${name}.sync`, ttl: 60, onError })((/** @type {number} */ n) => n * n);
  const asyncSquare = Mime({ state, name: `hygiene.${name}.async`, ttl: 60, onError })(async (/** @type {number} */ n) => n * n);
  for (let n = 0; n < 20; n++) {
    // The first sync call on Redis starts the worker thread; let it connect before counting on hits.
    results.push(syncSquare(n % 5) === (n % 5) ** 2, (await asyncSquare(n % 5)) === (n % 5) ** 2);
  }
  results.push(syncSquare.stats().hits > 0 || name === "redis", asyncSquare.stats().hits > 0);
}
console.log(JSON.stringify({ step: "used", allRight: results.every(Boolean), reported }));

await Promise.all(Object.values(states).map((state) => (config.leak && state === states.redis ? undefined : state.close())));
// What still holds the event loop once every state is closed (stdout's pipe is expected).
await new Promise((resolve) => setImmediate(resolve));
console.log(JSON.stringify({ step: "closed", at: Date.now(), resources: process.getActiveResourcesInfo() }));
process.on("exit", () => console.log(JSON.stringify({ step: "exit", at: Date.now() })));
