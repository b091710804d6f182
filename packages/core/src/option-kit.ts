import { InvalidOptionError } from "./errors.js";

/**
 * Renders any value for an error message: strings quoted, bigints with `n`, symbols and functions
 * by name, objects as JSON where they can be, else by their class.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The known name `given` most likely meant (same letters ignoring case, `_` and `-`; a known name it
 * starts with; else edit distance at most 2), for a "did you mean" hint.
 */
function closestName(given: string, known: readonly string[]): string | undefined {
  const normalized = given.toLowerCase().replace(/[_-]/g, "");
  const byPrefix = known.find((name) => normalized.startsWith(name.toLowerCase()));
  if (byPrefix !== undefined) return byPrefix;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(normalized, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Throws an {@link InvalidOptionError} for the first own key of `options` that is not in `known`,
 * naming it, the nearest known name and every known name: one message format for core and every state.
 * @param where what the options belong to, e.g. `"RedisState"` or `"RedisState: local"`
 */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const hint = closestName(name, known);
    throw new InvalidOptionError(
      `${where}: unknown option "${name}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}; known options: ${known.join(", ")}`,
    );
  }
}

/** The fewest bytes a state accepts as an HMAC `secret`: a shorter key can be guessed by whoever reads one entry. */
export const MIN_SECRET_BYTES = 16;
