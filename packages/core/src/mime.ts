import type { Config, ConfigOptions } from "./config.js";
import { InvalidOptionError } from "./errors.js";
import { getGlobalConfig, setGlobalConfig } from "./global-config.js";
import type { Memoized, MemoizedHandles } from "./engine/handles.js";
import { memoize } from "./memoize.js";
import { type MimeOptions, validateMimeOptions } from "./options.js";
import { invalidateTags } from "./engine/tag-invalidation.js";

type AnyFunction = (...args: never[]) => unknown;

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
}

/**
 * For decorated methods: makes, for an instance, a function that calls the method on it and whose
 * handles act on that instance.
 */
const methodBinders = new WeakMap<object, (instance: object) => unknown>();

/** Memoizes `fn` and registers its per-instance binder. */
function memoizeRegistered(fn: AnyFunction, settings: ReturnType<typeof validateMimeOptions>): object {
  const { memoized, bindInstance } = memoize(fn, settings);
  methodBinders.set(memoized, bindInstance);
  return memoized;
}

function isDecoratorContext(value: unknown): value is DecoratorContext {
  return typeof value === "object" && value !== null && "kind" in value && "name" in value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

/**
 * An accessor that gives each instance (or class, for a static method) its own bound function,
 * whose handles (`invalidate`, `peek`, …) act on that instance. Reading it on the owner itself
 * (`Users.prototype.find`) gives the memoized function.
 */
function perInstanceAccessor(owner: object | undefined, memoized: object, name: string | symbol, enumerable: boolean): PropertyDescriptor {
  const bind = methodBinders.get(memoized)!;
  const bound = new WeakMap<object, unknown>();
  return {
    configurable: true,
    enumerable,
    get(this: unknown): unknown {
      if ((typeof this !== "object" && typeof this !== "function") || this === null || this === owner) return memoized;
      let method = bound.get(this);
      if (method === undefined) bound.set(this, (method = bind(this)));
      return method;
    },
    set(this: object, value: unknown): void {
      Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
    },
  };
}

const converted = new WeakSet<object>();

/** TC39 mode: on the first construction, turns the method on its owner into the per-instance accessor. */
function installAccessor(receiver: object, name: string | symbol, memoized: object): void {
  if (converted.has(memoized)) return;
  let owner: object | null = receiver;
  while (owner !== null && Object.getOwnPropertyDescriptor(owner, name)?.value !== memoized) owner = Object.getPrototypeOf(owner) as object | null;
  if (owner === null) return;
  converted.add(memoized);
  const { enumerable = false } = Object.getOwnPropertyDescriptor(owner, name)!;
  Object.defineProperty(owner, name, perInstanceAccessor(owner, memoized, name, enumerable));
}

function createDecorator(options: unknown): MimeDecorator {
  const settings = validateMimeOptions(options);
  function decorate(target: unknown, contextOrKey?: unknown, descriptor?: PropertyDescriptor): unknown {
    if (isDecoratorContext(contextOrKey)) {
      if (contextOrKey.kind !== "method") {
        throw new InvalidOptionError(`@Mime decorates methods and functions, not a ${contextOrKey.kind} (${String(contextOrKey.name)})`);
      }
      const memoized = memoizeRegistered(target as AnyFunction, settings);
      const { name } = contextOrKey;
      contextOrKey.addInitializer(function (this: unknown) {
        installAccessor(this as object, name as string | symbol, memoized);
      });
      return memoized;
    }
    if (descriptor !== undefined && (typeof contextOrKey === "string" || typeof contextOrKey === "symbol")) {
      if (typeof descriptor.value !== "function") {
        throw new InvalidOptionError(`@Mime decorates methods, but ${String(contextOrKey)} is not a method (a getter or field?)`);
      }
      const memoized = memoizeRegistered(descriptor.value as AnyFunction, settings);
      return perInstanceAccessor(target as object, memoized, contextOrKey, descriptor.enumerable ?? false);
    }
    if (typeof target !== "function") {
      throw new InvalidOptionError(`Mime(options) expects a function to wrap, got ${describe(target)}`);
    }
    return memoizeRegistered(target as AnyFunction, settings);
  }
  return decorate as MimeDecorator;
}

/**
 * Memoizes functions and methods by their arguments, with a TTL, on a pluggable state.
 * @see {@link MimeFactory}
 */
export const Mime: MimeFactory = Object.assign(createDecorator as MimeFactory, {
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
