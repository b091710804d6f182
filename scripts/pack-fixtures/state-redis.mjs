// @mimic/state-redis through its ESM entry point. No server here: only that the class loads from the
// tarball (with its `redis` dependency) and has the IState shape that the installed core checks.
import { assertIsStateClass } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";

assertIsStateClass(RedisState);
console.log(`RedisState ${typeof RedisState}`);
