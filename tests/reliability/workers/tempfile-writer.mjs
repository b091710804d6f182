// @ts-check
// A writer that is killed with SIGKILL while it writes: it writes large entries to a static
// temp-file directory in a loop (sync and async writes alternately) until it dies. argv[2] is
// { basePath, keys, index, fsync } as JSON; it sends { type: "ready" } after its first complete write.
import { TempFileState } from "@mimic/state-tempfile";
import { makeValue, random } from "./shared.cjs";

/** @type {{ basePath: string, keys: number, index: number, fsync: boolean }} */
const config = JSON.parse(process.argv[2] ?? "{}");
const next = random(5000 + config.index);
// No sweeps here: the test checks what a killed writer leaves behind, and that a sweep cleans it.
// With fsync, a write spends most of its time between creating its temp file and renaming it, so
// a kill lands there more often; without, kills also land while the bytes are being written.
const state = new TempFileState({ basePath: config.basePath, static: true, sweepEvery: 0, fsync: config.fsync });

for (let round = 1; ; round++) {
  const key = `writer|k${Math.floor(next() * config.keys)}`;
  // 64 KiB to 1 MiB: long enough that a kill often lands between the temp file's creation and its rename.
  const size = Math.floor(64 * 1024 * 2 ** (next() * 4));
  const value = makeValue(key, `${config.index}.${process.pid}.${round}`, size);
  if (round % 2 === 0) state.setSync(key, value, null);
  else await state.set(key, value, null);
  if (round === 1) process.send?.({ type: "ready" });
}
