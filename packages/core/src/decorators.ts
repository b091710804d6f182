import { InvalidOptionError } from "./errors.js";

type AnyFunction = (...args: never[]) => unknown;

/** What a wrapper factory builds: the wrapper, and a way to bind it to an instance (for methods). */
export interface Wrapped {
  readonly memoized: unknown;
  bindInstance(instance: object): unknown;
}

/** A short rendering of what was given instead of a function. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return `${typeof value} ${String(value)}`;
}

/**
 * For decorated methods: makes, for an instance, a function that calls the method on it and whose
 * handles act on that instance.
 */
const methodBinders = new WeakMap<object, (instance: object) => unknown>();

function isDecoratorContext(value: unknown): value is DecoratorContext {
  return typeof value === "object" && value !== null && "kind" in value && "name" in value;
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

/**
 * A decorator that wraps functions with `wrap`, or decorates class methods in either decorator mode
 * (TC39, or legacy `experimentalDecorators`) so that each instance gets its own bound wrapper.
 * @param what how the factory is named in messages ("Mime", "Mime.batch")
 */
export function createDecorator(what: string, wrap: (fn: AnyFunction, asMethod: boolean) => Wrapped): unknown {
  /** Wraps `fn`; `asMethod` when it decorates a class method, whose calls are keyed per instance. */
  const memoizeRegistered = (fn: AnyFunction, asMethod: boolean): object => {
    const { memoized, bindInstance } = wrap(fn, asMethod);
    methodBinders.set(memoized as object, bindInstance);
    return memoized as object;
  };
  function decorate(target: unknown, contextOrKey?: unknown, descriptor?: PropertyDescriptor): unknown {
    if (isDecoratorContext(contextOrKey)) {
      if (contextOrKey.kind !== "method") {
        throw new InvalidOptionError(`@${what} decorates methods and functions, not a ${contextOrKey.kind} (${String(contextOrKey.name)})`);
      }
      const memoized = memoizeRegistered(target as AnyFunction, true);
      const { name } = contextOrKey;
      contextOrKey.addInitializer(function (this: unknown) {
        installAccessor(this as object, name as string | symbol, memoized);
      });
      return memoized;
    }
    if (descriptor !== undefined && (typeof contextOrKey === "string" || typeof contextOrKey === "symbol")) {
      if (typeof descriptor.value !== "function") {
        throw new InvalidOptionError(`@${what} decorates methods, but ${String(contextOrKey)} is not a method (a getter or field?)`);
      }
      const memoized = memoizeRegistered(descriptor.value as AnyFunction, true);
      return perInstanceAccessor(target as object, memoized, contextOrKey, descriptor.enumerable ?? false);
    }
    if (typeof target !== "function") {
      throw new InvalidOptionError(`${what}(options) expects a function to wrap, got ${describe(target)}`);
    }
    return memoizeRegistered(target as AnyFunction, false);
  }
  return decorate;
}

