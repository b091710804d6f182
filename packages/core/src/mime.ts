import type { Config, ConfigOptions } from "./config.js";
import { InvalidOptionError } from "./errors.js";
import { getGlobalConfig, setGlobalConfig } from "./global-config.js";
import { memoizeBatch, type MemoizedBatch, validateMaxBatchSize } from "./engine/batch.js";
import type { Memoized, MemoizedHandles } from "./engine/handles.js";
import { invalidateTags } from "./engine/tag-invalidation.js";
import { createDecorator, describe } from "./decorators.js";
import { memoize } from "./memoize.js";
import { type MimeOptions, validateMimeOptions } from "./options.js";

/** Any function Mime can memoize. */
export type AnyFunction = (...args: never[]) => unknown;

/**
 * What `Mime(options)` returns: wraps a function, or decorates a class method in either decorator
 * mode (TC39 decorators, the TypeScript 5 default, or legacy `experimentalDecorators`).
 */
export interface MimeDecorator {
  /** Wraps a function: same parameters, same `this`, sync stays sync and async stays async. */
  <F extends AnyFunction>(fn: F): Memoized<F>;
  /** TC39 method decorator. */
  <This, Args extends unknown[], Return>(
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): (this: This, ...args: Args) => Return;
  /** Legacy (`experimentalDecorators`) method decorator. */
  <T>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>;
}

/** `Mime` itself: the decorator factory, plus the global configuration. */
export interface MimeFactory {
  /**
   * Memoizes a function or method by its arguments (`@mr.Mime(ttl=1)` in the Python my-mimic).
   * @example
   * const add = Mime({ ttl: 1 })((a: number, b: number) => a + b);
   * class Users { @Mime({ ttl: 60 }) async find(id: string) { … } }
   * @throws InvalidOptionError / InvalidTtlError at decoration time for bad options
   */
  <Args extends unknown[] = never[], This = never, Result = unknown>(options?: MimeOptions<Args, This, Result>): MimeDecorator;
  /**
   * Replaces the global configuration (`Mime.set_config` in the Python my-mimic). Functions without their own
   * `state` use the new state from their next call. If the previous config created its state from
   * a class, that state is closed; the returned promise settles when it is.
   */
  setConfig<Options>(config: Config<Options> | ConfigOptions<Options>): Promise<void>;
  /** The configuration in force. */
  getConfig(): Config;
  /**
   * Removes every entry carrying any of `tags` (see the `tags` option) from every state that
   * tagged functions use and from the global state, across functions and processes.
   * @throws StateError (rejects) naming the states where the invalidation failed
   */
  invalidateTags(tags: readonly string[]): Promise<void>;
  /**
   * The handles of a memoized function or of a decorated method read from an instance, typed
   * (decorators cannot change a method's declared type): `Mime.handles(users.find).invalidate("42")`.
   * @throws InvalidOptionError when `fn` is not memoized by Mime
   */
  handles<F extends AnyFunction>(fn: F): MemoizedHandles<F>;
  /**
   * Memoizes a bulk loader per item: `loader(items)` returns the results in the order of `items`;
   * the memoized function takes an array and returns an array (sync stays sync, async stays async).
   * Each item is keyed and stored as a one-argument call `f(item)` would be, with its own ttl and
   * tags; only the missing items (deduplicated, in order) reach the loader; concurrent batches share
   * items in flight; `memoized.one(item)` loads one, and the `one` calls of one turn of the event
   * loop reach the loader together. A result array of the wrong length is a `BatchLengthError`
   * (`MIMIC_BATCH_LENGTH`) and nothing is stored.
   * @example
   * const loadUsers = Mime.batch({ ttl: 60, maxBatchSize: 100 })(async (ids: readonly string[]) => db.users(ids));
   * const [alice, bob] = await loadUsers(["alice", "bob"]);
   * const carol = await loadUsers.one("carol");
   */
  batch<Item = never, This = never, Result = unknown>(options?: MimeBatchOptions<Item, This, Result>): MimeBatchDecorator;
}

/** Options of `Mime.batch`: those of `Mime`, per item, plus `maxBatchSize`. */
export interface MimeBatchOptions<Item = never, This = never, Result = unknown> extends MimeOptions<[item: Item], This, Result> {
  /**
   * The most items one call of the loader receives; longer lists of missing items are split.
   * @default Infinity
   */
  maxBatchSize?: number;
}

/** What `Mime.batch(options)` returns: wraps a bulk loader, or decorates a bulk-loading method. */
export interface MimeBatchDecorator {
  /** Wraps a bulk loader `(items) => results` (or a promise of them). */
  <F extends (items: readonly never[]) => readonly unknown[] | PromiseLike<readonly unknown[]>>(loader: F): MemoizedBatch<F>;
  /** TC39 method decorator. */
  <This, Args extends [readonly unknown[]], Return>(
    method: (this: This, ...args: Args) => Return,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
  ): (this: This, ...args: Args) => Return;
  /** Legacy (`experimentalDecorators`) method decorator. */
  <T>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>;
}

/**
 * Memoizes functions and methods by their arguments, with a TTL, on a pluggable state.
 * @see {@link MimeFactory}
 */
function mimeDecorator(options?: unknown): MimeDecorator {
  const settings = validateMimeOptions(options);
  return createDecorator("Mime", (fn, asMethod) => memoize(fn, settings, undefined, asMethod)) as MimeDecorator;
}

function batchDecorator(options?: unknown): MimeBatchDecorator {
  const given = (options ?? {}) as { maxBatchSize?: unknown };
  const { maxBatchSize, ...rest } = typeof given === "object" && given !== null ? given : {};
  const limit = validateMaxBatchSize(maxBatchSize);
  const settings = validateMimeOptions(typeof given === "object" && given !== null ? rest : options);
  return createDecorator("Mime.batch", (fn, asMethod) => memoizeBatch(fn, settings, limit, asMethod)) as MimeBatchDecorator;
}

export const Mime: MimeFactory = Object.assign(mimeDecorator as MimeFactory, {
  batch: batchDecorator as MimeFactory["batch"],
  setConfig: setGlobalConfig as MimeFactory["setConfig"],
  getConfig: getGlobalConfig,
  invalidateTags,
  handles<F extends AnyFunction>(fn: F): MemoizedHandles<F> {
    const candidate = fn as unknown as Partial<MemoizedHandles<F>>;
    if (typeof fn !== "function" || typeof candidate.invalidate !== "function" || typeof candidate.stats !== "function") {
      throw new InvalidOptionError(`Mime.handles: expected a function memoized by Mime, got ${describe(fn)}`);
    }
    return candidate as MemoizedHandles<F>;
  },
});
