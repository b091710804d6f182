/**
 * Batch loops for the measured cases. Each loop is compiled from source with `new Function`, so
 * every case gets its own copy with its own type feedback: closures made from one shared function
 * literal share V8's feedback, and the call inside the loop would turn megamorphic across cases,
 * penalising whichever library happens to run last.
 */

type AnyFunction = (...args: never[]) => unknown;

/** How a result is folded into the checksum, so the JIT cannot drop the call. */
export type Consume = "number" | "id";

function compile(source: string, fn: AnyFunction, columns: readonly (readonly unknown[])[]): () => unknown {
  const params = columns.map((_, j) => `c${j}`);
  const factory = new Function("fn", ...params, `"use strict";\n${source}`) as (...values: unknown[]) => () => unknown;
  return factory(fn, ...columns);
}

function loopSource(columns: number, async: boolean, consume: Consume): string {
  const args = Array.from({ length: columns }, (_, j) => `c${j}[i]`).join(", ");
  const call = async ? `(await fn(${args}))` : `fn(${args})`;
  const value = consume === "number" ? call : `${call}.id`;
  return `return ${async ? "async " : ""}function batch() {
    let sum = 0;
    for (let i = 0; i < c0.length; i++) sum = (sum + ${value}) | 0;
    return sum;
  };`;
}

/**
 * A sync batch: calls `fn` once per index with the i-th element of each column as arguments
 * (one column per parameter), sequentially, and returns a checksum.
 */
export function syncBatch(fn: AnyFunction, columns: readonly (readonly unknown[])[], consume: Consume = "number"): () => number {
  return compile(loopSource(columns.length, false, consume), fn, columns) as () => number;
}

/** Like {@link syncBatch}, awaiting each call before the next (sequential async hits). */
export function asyncBatch(
  fn: AnyFunction,
  columns: readonly (readonly unknown[])[],
  consume: Consume = "number",
): () => Promise<number> {
  return compile(loopSource(columns.length, true, consume), fn, columns) as () => Promise<number>;
}

/** Starts every call of the batch at once and awaits them all (calls in flight together). */
export function concurrentBatch(
  fn: AnyFunction,
  columns: readonly (readonly unknown[])[],
  consume: Consume = "number",
): () => Promise<number> {
  const args = columns.map((_, j) => `c${j}[i]`).join(", ");
  const value = consume === "number" ? "results[i]" : "results[i].id";
  const source = `return async function batch() {
    const pending = new Array(c0.length);
    for (let i = 0; i < c0.length; i++) pending[i] = fn(${args});
    const results = await Promise.all(pending);
    let sum = 0;
    for (let i = 0; i < results.length; i++) sum = (sum + ${value}) | 0;
    return sum;
  };`;
  return compile(source, fn, columns) as () => Promise<number>;
}

function windowSource(columns: number, async: boolean, consume: Consume, size: number): string {
  const args = Array.from({ length: columns }, (_, j) => `c${j}[i]`).join(", ");
  const call = async ? `(await fn(${args}))` : `fn(${args})`;
  const value = consume === "number" ? call : `${call}.id`;
  return `let i = 0;
  return ${async ? "async " : ""}function window() {
    let sum = 0;
    for (let n = 0; n < ${size}; n++) {
      sum = (sum + ${value}) | 0;
      if (++i === c0.length) i = 0;
    }
    return sum;
  };`;
}

/**
 * A measured sample: `size` sequential calls, continuing through the columns where the previous
 * sample stopped (wrapping around), so a sample can be shorter or longer than one pass over the
 * data while every argument is still visited equally often.
 */
export function windowLoop(
  fn: AnyFunction,
  columns: readonly (readonly unknown[])[],
  size: number,
  async: boolean,
  consume: Consume = "number",
): () => unknown {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be a positive integer, got ${size}`);
  return compile(windowSource(columns.length, async, consume, size), fn, columns);
}
