// @mimic/state-redis through its CommonJS entry point. No server here: only that the class loads from
// the tarball (with its `redis` dependency) and has the IState shape that the installed core checks.
const { assertIsStateClass } = require("@mimic/core");
const { RedisState } = require("@mimic/state-redis");

assertIsStateClass(RedisState);
console.log(`RedisState ${typeof RedisState}`);
