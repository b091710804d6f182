// The seed's example on Redis:
//
//   Mime.set_config(config=Config(state=RedisState, state_kwargs={"REDIS_URL": url}))
//
//   @mr.Mime(ttl=1)
//   def cached_callback(a, b):
//       print("Function was called")
//       return a + b
//
// Uses REDIS_URL when it is set; otherwise it starts a private redis-server on a free port (with the
// test harness of @mimic/state-redis) so the demo runs anywhere redis-server is installed.
import { Config, Mime } from "@mimic/core";
import { RedisState } from "@mimic/state-redis";
import { startRedisServer } from "../packages/state-redis/test/harness/index.js";

const ownServer = process.env.REDIS_URL ? undefined : await startRedisServer();
const url = process.env.REDIS_URL || ownServer!.url;

Mime.setConfig(new Config({ state: RedisState, stateOptions: { url } }));

const cachedCallback = Mime({ ttl: 1 })(function cachedCallback(a: number, b: number): number {
  console.log("Function was called");
  return a + b;
});

console.log(cachedCallback(1, 2));
console.log(cachedCallback(1, 2));
console.log("Await 2 seconds");
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log(cachedCallback(1, 2));

// Closes the RedisState the config created (its connection and worker thread): the script then exits
// by itself, without process.exit.
await Mime.getConfig().close();
await ownServer?.stop();
