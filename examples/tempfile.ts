// The seed's example on the temp-file state:
//
//   Mime.set_config(config=Config(state=TempFileState, state_kwargs={"BASE_PATH": ..., "STATIC": False}))
//
//   @mr.Mime(ttl=1)
//   def cached_callback(a, b):
//       print("Function was called")
//       return a + b
//
// Not static, the state keeps its entries in a private directory under the OS temp dir and removes
// it on close (and at exit). With `static: true` the entries would outlive the process and be shared
// with every other process using the same basePath.
import { tmpdir } from "node:os";
import { Config, Mime } from "@mimic/core";
import { TempFileState } from "@mimic/state-tempfile";

Mime.setConfig(new Config({ state: TempFileState, stateOptions: { basePath: tmpdir(), static: false } }));

const cachedCallback = Mime({ ttl: 1 })(function cachedCallback(a: number, b: number): number {
  console.log("Function was called");
  return a + b;
});

console.log(cachedCallback(1, 2));
console.log(cachedCallback(1, 2));
console.log("Await 2 seconds");
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log(cachedCallback(1, 2));

// Closes the TempFileState the config created, which removes its private directory.
await Mime.getConfig().close();
