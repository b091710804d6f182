import type { Config, ConfigOptions } from "./config.js";
import { InvalidOptionError } from "./errors.js";
import { getGlobalConfig, setGlobalConfig } from "./global-config.js";
import { type Memoized, memoize } from "./memoize.js";
import { type MimeOptions, validateMimeOptions } from "./options.js";

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
   * Memoizes a function or method by its arguments (the seed's `@mr.Mime(ttl=1)`).
   * @example
   * const add = Mime({ ttl: 1 })((a: number, b: number) => a + b);
   * class Users { @Mime({ ttl: 60 }) async find(id: string) { … } }
   * @throws InvalidOptionError / InvalidTtlError at decoration time for bad options
   */
  <Args extends unknown[] = never[], This = never>(options?: MimeOptions<Args, This>): MimeDecorator;
  /**
   * Replaces the global configuration (the seed's `Mime.set_config`). Functions without their own
   * `state` use the new state from their next call. If the previous config created its state from
   * a class, that state is closed; the returned promise settles when it is.
   */
  setConfig<Options>(config: Config<Options> | ConfigOptions<Options>): Promise<void>;
  /** The configuration in force. */
  getConfig(): Config;
}

function isDecoratorContext(value: unknown): value is DecoratorContext {
  return typeof value === "object" && value !== null && "kind" in value && "name" in value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

function createDecorator(options: unknown): MimeDecorator {
  const settings = validateMimeOptions(options);
  function decorate(target: unknown, contextOrKey?: unknown, descriptor?: PropertyDescriptor): unknown {
    if (isDecoratorContext(contextOrKey)) {
      if (contextOrKey.kind !== "method") {
        throw new InvalidOptionError(`@Mime decorates methods and functions, not a ${contextOrKey.kind} (${String(contextOrKey.name)})`);
      }
      return memoize(target as AnyFunction, settings);
    }
    if (descriptor !== undefined && (typeof contextOrKey === "string" || typeof contextOrKey === "symbol")) {
      if (typeof descriptor.value !== "function") {
        throw new InvalidOptionError(`@Mime decorates methods, but ${String(contextOrKey)} is not a method (a getter or field?)`);
      }
      return { ...descriptor, value: memoize(descriptor.value as AnyFunction, settings) };
    }
    if (typeof target !== "function") {
      throw new InvalidOptionError(`Mime(options) expects a function to wrap, got ${describe(target)}`);
    }
    return memoize(target as AnyFunction, settings);
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
});
