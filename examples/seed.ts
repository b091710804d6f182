// The seed's example, on the default memory state:
//
//   @mr.Mime(ttl=1)
//   def cached_callback(a, b):
//       print("Function was called")
//       return a + b
import { Mime } from "@mimic/core";

const cachedCallback = Mime({ ttl: 1 })(function cachedCallback(a: number, b: number): number {
  console.log("Function was called");
  return a + b;
});

console.log(cachedCallback(1, 2));
console.log(cachedCallback(1, 2));
console.log("Await 2 seconds");
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log(cachedCallback(1, 2));
