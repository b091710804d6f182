// The seed scenario through the CommonJS entry point of the installed @mimic/core tarball.
const { Config, MemoryState, Mime } = require("@mimic/core");

async function main() {
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
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
