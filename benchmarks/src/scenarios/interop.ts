import fastMemoizeModule from "fast-memoize";

type FastMemoize = <F extends (...args: never[]) => unknown>(fn: F) => F;

/**
 * fast-memoize is CommonJS (`module.exports = memoize`) with typings that declare an ES default
 * export, so an ESM default import is the function at run time while TypeScript sees a namespace.
 */
export const fastMemoize: FastMemoize =
  ((fastMemoizeModule as unknown as { default?: FastMemoize }).default ?? (fastMemoizeModule as unknown as FastMemoize));

import moizeModule from "moize";

/** moize has the same CommonJS-with-ES-default typings as fast-memoize. */
export const moize: typeof moizeModule.default =
  (moizeModule as unknown as { default?: typeof moizeModule.default }).default ?? (moizeModule as unknown as typeof moizeModule.default);
