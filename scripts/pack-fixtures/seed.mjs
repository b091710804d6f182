// The seed scenario through the ESM entry point of the installed @mimic/core tarball.
import { Config, MemoryState, Mime } from "@mimic/core";

await Mime.setConfig(new Config({ state: MemoryState, stateOptions: { maxEntries: 100 } }));

const cachedCallback = Mime({ ttl: 0.2 })(function cachedCallback(a, b) {
  console.log("Function was called");
  return a + b;
});

console.log(cachedCallback(1, 2));
console.log(cachedCallback(1, 2));
console.log("Await 0.4 seconds");
await new Promise((resolve) => setTimeout(resolve, 400));
console.log(cachedCallback(1, 2));
// No process.exit: the script must end by itself (no ref'd timers left by the memory state).
