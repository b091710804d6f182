import type { Scenario } from "../scenario.js";
import { memoryPrimitive } from "./s01-memory-primitive.js";
import { memoryTwoArguments } from "./s02-memory-two-args.js";
import { memoryObject } from "./s03-memory-object.js";
import { asyncMemory } from "./s04-async-memory.js";
import { concurrentMisses } from "./s05-concurrent-misses.js";
import { crossProcessMisses } from "./s05b-cross-process-misses.js";
import { redisInflight, redisSequential } from "./s06-s07-redis-hits.js";
import { redisSync } from "./s08-redis-sync.js";
import { tempFileHits } from "./s09-tempfile.js";
import { missAndStore } from "./s10-miss-store.js";
import { redisLocalLayer } from "./s11-redis-local-layer.js";
import { hitRatiosScenario } from "./s12-hit-ratios.js";
import { redisBatch } from "./s13-redis-batch.js";
import { freshness } from "./s14-freshness.js";

/** Every scenario, in the order. */
export const scenarios: readonly Scenario[] = [
  memoryPrimitive,
  memoryTwoArguments,
  memoryObject,
  asyncMemory,
  concurrentMisses,
  crossProcessMisses,
  redisSequential,
  redisInflight,
  redisSync,
  tempFileHits,
  missAndStore,
  redisLocalLayer,
  hitRatiosScenario,
  redisBatch,
  freshness,
];
