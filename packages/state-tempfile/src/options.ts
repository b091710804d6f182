import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { InvalidOptionError, v8Serializer, type Serializer, type StateError } from "@mimic/core";
import { MIN_SECRET_BYTES, describeValue, rejectUnknownOptions } from "@mimic/core/state-kit";

/** Options of {@link TempFileState}. */
export interface TempFileStateOptions {
  /**
   * The directory under which the cache directory is made. Created (mode 0700, with its parents)
   * when it does not exist. It must belong to this user or root and, if group or others can write
   * it, have the sticky bit (as `/tmp` has); otherwise the state refuses it with an
   * `UnsafeDirectoryError` (see the README's Security section).
   * @default os.tmpdir()
   */
  basePath?: string | undefined;

  /**
   * `false`: the state makes its own private directory (`<basePath>/mimic-XXXXXX`, `mkdtemp`),
   * seen by this process only, and removes it on `close()` and when the process exits normally.
   *
   * `true`: entries live in a stable directory, `<basePath>/mimic-cache-<uid>`, that other
   * processes and later runs share; nothing is removed automatically.
   * @default false
   */
  static?: boolean | undefined;

  /**
   * Turns values into bytes and back. Its `name` is stored in every entry, so entries written by
   * another serializer are a miss (and removed), never misread.
   * @default v8Serializer (structured clone: keeps `undefined`, `Date`, `Map`, `Set`, `BigInt`, typed arrays)
   */
  serializer?: Serializer | undefined;

  /**
   * `true`: every write is flushed to the disk (`fsync` of the file before the rename and of the
   * directory after it), so an entry survives a power loss. Costs a disk flush per write.
   * `false`: the rename still makes writes atomic for every process, and a crash of the machine
   * can at worst lose or truncate recent entries, which readers then treat as misses.
   * @default false
   */
  fsync?: boolean | undefined;

  /**
   * Upper bound on the number of entry files; beyond it the oldest-written entries are evicted
   * (down to 90 % of the bound, so that eviction is not paid on every write).
   * @default undefined (no bound; expired entries are still swept)
   */
  maxEntries?: number | undefined;

  /**
   * Upper bound on the total size of the entry files in bytes; beyond it the oldest-written entries
   * are evicted (down to 90 % of the bound).
   * @default undefined (no bound)
   */
  maxBytes?: number | undefined;

  /**
   * Sweep the directory after this many writes and invalidations by this state: remove expired
   * entries, corrupt files, temporary files left by writers that died and invalidation stamps no
   * write needs any more, and apply `maxEntries`/`maxBytes`. The sweep runs inside the write (or
   * invalidation) that triggers it. `0` turns write-triggered sweeps off
   * (bounds are then applied by the timer or `sweep()` only).
   * @default 1000
   */
  sweepEvery?: number | undefined;

  /**
   * Also sweep in the background every this many seconds (fractions allowed). The timer is
   * `unref`'d, so it never keeps the process alive, and `close()` stops it. `null` or `0`: no timer.
   * @default null
   */
  sweepInterval?: number | null | undefined;

  /**
   * Receives problems found in the background, which have no caller to throw to: failures of a
   * sweep and corrupt files the sweep removed. Errors of `get`/`set` are thrown to the caller
   * (Mimic reports those to its own `onError`). It must not throw.
   * @default a `process.emitWarning`, at most one every 30 seconds per state
   */
  onError?: ((error: StateError) => void) | undefined;

  /**
   * Signs every entry with HMAC-SHA256 under this key and accepts only entries whose signature
   * matches: a file changed on disk, forged, or written without this secret (or with another one)
   * is a miss, reported as a `CorruptEntryError`, and its bytes are never deserialized. The entry's
   * key is signed with it, so a signed entry cannot be replayed under another key.
   * At least 16 bytes; use 32 random bytes (`crypto.randomBytes(32)`), kept out of the cache
   * directory. Every process sharing a static directory must use the same secret. Costs one
   * HMAC over each entry on every read and write.
   * @default undefined (entries are not signed; see the README's Security section)
   */
  secret?: string | Uint8Array | undefined;

  /**
   * An async `get` whose entry file is at most this many bytes reads it synchronously on the calling
   * thread (a 1 KiB entry on a local disk: ~15 µs) instead of through libuv's thread pool, whose
   * round trip costs 100–300 µs and queues behind other file and DNS work. Larger files, and `0`,
   * go through the thread pool, so a big entry or a slow (network) disk never holds the event loop
   * for long. Set `0` when the directory is on a network file system.
   * @default 65536
   */
  inlineReadBytes?: number | undefined;

  /**
   * An async `set` whose encoded entry is at most this many bytes is written synchronously on the
   * calling thread, checks included (the temporary file, the invalidation stamps that cover its key,
   * the rename: ~30 µs for a 1 KiB entry on a local disk), instead of as a dozen thread-pool round
   * trips (~1 ms in all on a busy machine). Larger entries, `0`, and every write with `fsync: true`
   * (an `fsync` can take milliseconds) go through the thread pool. Set `0` when the directory is on
   * a network file system.
   * @default 65536
   */
  inlineWriteBytes?: number | undefined;
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  readonly basePath: string;
  readonly static: boolean;
  readonly serializer: Serializer;
  readonly fsync: boolean;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly sweepEvery: number;
  readonly sweepIntervalMs: number;
  readonly onError: (error: StateError) => void;
  readonly secret: Buffer | undefined;
  readonly inlineReadBytes: number;
  readonly inlineWriteBytes: number;
}

const KNOWN_OPTIONS: readonly (keyof TempFileStateOptions)[] = [
  "basePath",
  "static",
  "serializer",
  "fsync",
  "maxEntries",
  "maxBytes",
  "sweepEvery",
  "sweepInterval",
  "onError",
  "secret",
  "inlineReadBytes",
  "inlineWriteBytes",
];

function invalid(name: string, expected: string, value: unknown): InvalidOptionError {
  // describeValue goes through JSON, which renders NaN and ±Infinity as "null".
  const shown = typeof value === "number" ? String(value) : describeValue(value);
  return new InvalidOptionError(`TempFileState: option "${name}" must be ${expected}, got ${shown}`);
}

function optionalBoolean(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw invalid(name, "a boolean", value);
  return value;
}

function optionalCount(name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw invalid(name, allowZero ? "an integer >= 0" : "an integer >= 1", value);
  }
  return value;
}

function isSerializer(value: unknown): value is Serializer {
  const candidate = value as Partial<Serializer> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.name === "string" &&
    typeof candidate.serialize === "function" &&
    typeof candidate.deserialize === "function"
  );
}

const WARNING_INTERVAL_MS = 30_000;

// A failing disk would otherwise print a warning for every sweep.
function rateLimitedWarning(): (error: StateError) => void {
  let lastWarning = -Infinity;
  return (error) => {
    const now = Date.now();
    if (now - lastWarning < WARNING_INTERVAL_MS) return;
    lastWarning = now;
    process.emitWarning(error);
  };
}

/**
 * Applies defaults and checks every option.
 * @throws InvalidOptionError naming the option and the value for a wrong type, a bad number or an
 *   unknown option name.
 */
export function resolveOptions(options: TempFileStateOptions | undefined): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object") throw new InvalidOptionError(`TempFileState: options must be an object, got ${describeValue(options)}`);
  rejectUnknownOptions("TempFileState", options, KNOWN_OPTIONS);
  const { basePath, serializer, sweepInterval, onError } = options;
  if (basePath !== undefined && (typeof basePath !== "string" || basePath === "")) {
    throw invalid("basePath", "a non-empty path", basePath);
  }
  if (serializer !== undefined && !isSerializer(serializer)) {
    throw invalid("serializer", "a Serializer ({ name, serialize, deserialize })", serializer);
  }
  if (serializer !== undefined) {
    const nameBytes = Buffer.byteLength(serializer.name, "utf8");
    if (nameBytes === 0 || nameBytes > 255) {
      throw invalid("serializer", "a Serializer whose name is 1 to 255 bytes of UTF-8 (it is stored in every entry)", serializer.name);
    }
  }
  if (
    sweepInterval !== undefined &&
    sweepInterval !== null &&
    (typeof sweepInterval !== "number" || !Number.isFinite(sweepInterval) || sweepInterval < 0)
  ) {
    throw invalid("sweepInterval", "a finite number of seconds >= 0, or null", sweepInterval);
  }
  if (onError !== undefined && typeof onError !== "function") throw invalid("onError", "a function", onError);
  const { secret } = options;
  let secretBytes: Buffer | undefined;
  if (secret !== undefined) {
    if (typeof secret === "string") secretBytes = Buffer.from(secret, "utf8");
    else if (secret instanceof Uint8Array) secretBytes = Buffer.from(secret); // a copy: the caller may reuse theirs
    else {
      // Its type only: whatever was passed as a secret must not end up in a log.
      const kind = typeof secret === "number" || typeof secret === "boolean" || secret === null ? String(secret) : typeof secret;
      throw new InvalidOptionError(`TempFileState: option "secret" must be a string or a Uint8Array/Buffer, got ${kind}`);
    }
    if (secretBytes.length < MIN_SECRET_BYTES) {
      throw new InvalidOptionError(
        `TempFileState: option "secret" must be at least ${MIN_SECRET_BYTES} bytes (use crypto.randomBytes(32)), got ${secretBytes.length}`,
      );
    }
  }
  return {
    basePath: resolve(basePath ?? tmpdir()),
    static: optionalBoolean("static", options.static),
    serializer: serializer ?? v8Serializer,
    fsync: optionalBoolean("fsync", options.fsync),
    maxEntries: optionalCount("maxEntries", options.maxEntries, Infinity, false),
    maxBytes: optionalCount("maxBytes", options.maxBytes, Infinity, false),
    sweepEvery: optionalCount("sweepEvery", options.sweepEvery, 1000, true),
    inlineReadBytes: optionalCount("inlineReadBytes", options.inlineReadBytes, 65_536, true),
    inlineWriteBytes: optionalCount("inlineWriteBytes", options.inlineWriteBytes, 65_536, true),
    sweepIntervalMs: sweepInterval ? Math.max(1, Math.round(sweepInterval * 1000)) : 0,
    onError: onError ?? rateLimitedWarning(),
    secret: secretBytes,
  };
}
