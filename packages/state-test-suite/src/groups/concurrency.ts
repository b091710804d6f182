import { setImmediate } from "node:timers/promises";
import type { CacheEntry } from "@mimic/core";
import { ConformanceError, expectHit } from "../assertions.js";
import { findMismatch } from "../compare.js";
import { preview } from "../format.js";
import type { SuiteContext } from "../harness.js";
import { asyncOperations } from "../operations.js";

const CALLERS = 50;

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await setImmediate();
}

/** A value large enough that a write or read done in pieces would show. */
function writtenBy(writer: number): { writer: number; text: string; list: number[] } {
  return {
    writer,
    text: `${writer}:`.padEnd(16 * 1024, String.fromCharCode(97 + (writer % 26))),
    list: Array.from({ length: 200 }, (_, i) => writer * 1000 + i),
  };
}

/** Many async callers on one key: no torn values, and a completed write is never lost to a miss. */
export function registerConcurrencyTests(context: SuiteContext): void {
  context.test(`${CALLERS} concurrent callers set and get one key: every read is a miss or one complete written value`, async () => {
    const state = asyncOperations.bind(await context.createState());
    const reads: { entry: CacheEntry | undefined; afterOwnWrite: boolean; reader: number }[] = [];
    // Callers start and pause after different numbers of event-loop turns, so that reads land while
    // other callers' writes are in progress, whatever the backend's latency.
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, writer) => {
        await turns(writer % 5);
        reads.push({ entry: await state.get("contended"), afterOwnWrite: false, reader: writer });
        await state.set("contended", writtenBy(writer), null);
        for (let round = 0; round < 3; round++) {
          reads.push({ entry: await state.get("contended"), afterOwnWrite: true, reader: writer });
          await turns((writer + round) % 3);
        }
      }),
    );
    for (const { entry, afterOwnWrite, reader } of reads) {
      if (entry === undefined) {
        if (afterOwnWrite) throw new ConformanceError(`caller ${reader} got a miss after its own set had completed`);
        continue;
      }
      const value = entry.value as { writer?: unknown } | null;
      const writer = typeof value === "object" && value !== null ? value.writer : undefined;
      if (typeof writer !== "number" || !Number.isInteger(writer) || writer < 0 || writer >= CALLERS) {
        throw new ConformanceError(`caller ${reader} read a value no caller wrote: ${preview(entry.value)}`);
      }
      const mismatch = findMismatch(writtenBy(writer), entry.value);
      if (mismatch !== undefined) throw new ConformanceError(`caller ${reader} read an incomplete value of writer ${writer}: ${mismatch}`);
    }
    const final = await state.get("contended");
    const lastWriter = (final?.value as { writer?: unknown } | undefined)?.writer;
    expectHit(final, writtenBy(typeof lastWriter === "number" ? lastWriter : 0), "get after every caller finished");
  });
}
