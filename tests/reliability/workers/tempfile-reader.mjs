// @ts-check
// Reads the writers' keys in a loop while writers are being killed, checking every value: each read
// must be a miss or a complete entry. argv[2] is { basePath, keys } as JSON. Sends { type: "ready" },
// reads until it receives { type: "stop" }, then sends { type: "result" } and exits.
import { TempFileState } from "@mimic/state-tempfile";
import { checkValue } from "./shared.cjs";

/** @type {{ basePath: string, keys: number }} */
const config = JSON.parse(process.argv[2] ?? "{}");
const state = new TempFileState({ basePath: config.basePath, static: true, sweepEvery: 0 });
const counts = { reads: 0, hits: 0, misses: 0, wrong: 0, exceptions: 0 };
/** @type {string[]} */
const failures = [];
let stop = false;
process.on("message", (/** @type {{ type: string }} */ message) => {
  if (message.type === "stop") stop = true;
});
process.send?.({ type: "ready" });

for (let round = 0; !stop; round++) {
  for (let k = 0; k < config.keys && !stop; k++) {
    const key = `writer|k${k}`;
    try {
      const entry = round % 2 === 0 ? state.getSync(key) : await state.get(key);
      counts.reads++;
      if (entry === undefined) counts.misses++;
      else counts.hits++;
      const problem = checkValue(key, entry?.value);
      if (problem !== undefined) {
        counts.wrong++;
        if (failures.length < 10) failures.push(`${key}: ${problem}`);
      }
    } catch (error) {
      counts.exceptions++;
      if (failures.length < 10) failures.push(`${key}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }
  // Lets the stop message in (even when every read is synchronous) and leaves the writers some CPU.
  await new Promise((resolve) => setTimeout(resolve, 5));
}
process.send?.({ type: "result", counts, failures });
await state.close();
process.disconnect();
