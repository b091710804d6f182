import { InvalidOptionError, InvalidTtlError } from "./errors.js";
import { describeValue } from "./option-kit.js";

/**
 * Checks a ttl given in seconds (fractions allowed) and returns it; `null` and `undefined` mean
 * "never expires" and return `null`.
 * @param where what the ttl belongs to, for the message (e.g. `Mime({ ttl }) on "fetchUser"`)
 * @throws InvalidOptionError (a TypeError) when `ttl` is not a number;
 *   InvalidTtlError (a RangeError) when it is negative, NaN or infinite.
 */
export function validateTtl(ttl: unknown, where = "ttl"): number | null {
  if (ttl === undefined || ttl === null) return null;
  if (typeof ttl !== "number") {
    throw new InvalidOptionError(
      `${where}: ttl must be a number of seconds or null, got ${typeof ttl} ${describeValue(ttl)}`,
    );
  }
  if (Number.isNaN(ttl) || ttl < 0 || ttl === Infinity) {
    throw new InvalidTtlError(
      `${where}: ttl must be a finite number of seconds >= 0 (or null for "never expires"), got ${ttl}`,
    );
  }
  return ttl;
}

/** The ttl in whole milliseconds, rounded up so that a positive ttl never becomes 0; `null` stays `null`. */
export function ttlToMilliseconds(ttl: number | null): number | null {
  return ttl === null ? null : Math.ceil(ttl * 1000);
}

/** The absolute expiry time (ms since the epoch, as `Date.now()`) of an entry written `now`; never: `Infinity`. */
export function expiresAt(ttl: number | null, now: number = Date.now()): number {
  return ttl === null ? Infinity : now + ttl * 1000;
}

/** Whether an entry with this expiry time has expired at `now`. */
export function isExpired(expiry: number, now: number = Date.now()): boolean {
  return expiry <= now;
}
