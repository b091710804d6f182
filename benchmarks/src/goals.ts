import { formatRatio, formatRate, formatTime } from "./report.js";
import type { Goal, Row } from "./types.js";

export function rowNamed(rows: readonly Row[], name: string): Row | undefined {
  return rows.find((row) => row.name === name);
}

function missing(text: string, names: readonly string[]): Goal {
  return { text, met: null, detail: `row(s) missing: ${names.join(", ")}` };
}

/**
 * "subject ≤ factor × baseline" in time per op (a throughput goal "≥ baseline" is factor 1).
 * Ratios are of medians measured in the same run.
 */
export function atMost(text: string, rows: readonly Row[], subject: string, baseline: string, factor: number): Goal {
  const s = rowNamed(rows, subject);
  const b = rowNamed(rows, baseline);
  if (s === undefined || b === undefined) return missing(text, [subject, baseline]);
  const ratio = s.medianNs / b.medianNs;
  return {
    text,
    met: ratio <= factor,
    detail: `${subject} ${formatTime(s.medianNs)} vs ${baseline} ${formatTime(b.medianNs)}: ${formatRatio(ratio)} (limit ${formatRatio(factor)}; at p10: ${formatRatio(s.p10Ns / b.p10Ns)})`,
  };
}

/** "subject is ≥ factor × faster than baseline", i.e. baseline time / subject time ≥ factor. */
export function fasterBy(text: string, rows: readonly Row[], subject: string, baseline: string, factor: number): Goal {
  const s = rowNamed(rows, subject);
  const b = rowNamed(rows, baseline);
  if (s === undefined || b === undefined) return missing(text, [subject, baseline]);
  const speedup = b.medianNs / s.medianNs;
  return {
    text,
    met: speedup >= factor,
    detail: `${subject} ${formatTime(s.medianNs)} vs ${baseline} ${formatTime(b.medianNs)}: ${speedup.toFixed(2)}× faster (needs ≥ ${factor}×; at p10: ${(b.p10Ns / s.p10Ns).toFixed(2)}×)`,
  };
}

/** "subject's throughput ≥ factor × baseline's" (factor 1 by default). */
export function throughputAtLeast(text: string, rows: readonly Row[], subject: string, baseline: string, factor = 1): Goal {
  const s = rowNamed(rows, subject);
  const b = rowNamed(rows, baseline);
  if (s === undefined || b === undefined) return missing(text, [subject, baseline]);
  const ratio = s.opsPerSec / b.opsPerSec;
  const limit = factor === 1 ? "" : `; needs ≥ ${factor}×`;
  return {
    text,
    met: ratio >= factor,
    detail: `${subject} ${formatRate(s.opsPerSec)} ops/s vs ${baseline} ${formatRate(b.opsPerSec)} ops/s (${ratio.toFixed(2)}×${limit}; at p10: ${(b.p10Ns / s.p10Ns).toFixed(2)}×)`,
  };
}

/** The fastest of several rows (e.g. a library's two recommended modes), by median. */
export function fastestOf(rows: readonly Row[], names: readonly string[]): Row | undefined {
  return rows.filter((row) => names.includes(row.name)).sort((a, b) => a.medianNs - b.medianNs)[0];
}

/** "subject is faster (lower median) than every one of `peers`". */
export function fasterThanAll(text: string, rows: readonly Row[], subject: string, peers: readonly string[]): Goal {
  const s = rowNamed(rows, subject);
  const others = peers.map((name) => rowNamed(rows, name)).filter((row): row is Row => row !== undefined);
  if (s === undefined || others.length !== peers.length) return missing(text, [subject, ...peers]);
  const fastest = others.sort((a, b) => a.medianNs - b.medianNs)[0]!;
  return {
    text,
    met: s.medianNs < fastest.medianNs,
    detail: `${subject} ${formatTime(s.medianNs)} vs the fastest peer, ${fastest.name}, ${formatTime(fastest.medianNs)}: ${formatRatio(s.medianNs / fastest.medianNs)}`,
  };
}
