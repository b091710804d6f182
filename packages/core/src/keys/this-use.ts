/**
 * Whether a function can tell which `this` it was called with. An arrow function's `this` is its
 * enclosing scope's; any other function reads its own only through `this`, `super` or a direct
 * `eval` in its source. A function whose source shows none of them answers the same for every `this`,
 * so its calls are keyed as plain calls whatever they are called on (`api.get(1)` through a module
 * namespace or `module.exports` is `get(1)`), and its handles reach them. Native and bound functions
 * show no source: they are taken to read `this`.
 */
export function readsThis(fn: unknown): boolean {
  if (typeof fn !== "function") return true;
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) return true;
  if (isArrowFunctionSource(source)) return false;
  return /\bthis\b|\bsuper\b|\beval\b/.test(source);
}

/**
 * Whether `source` (a function's `Function.prototype.toString`) is an arrow function's: `(…) =>`,
 * `x =>`, optionally `async`. Methods (`name(…) {`, `async name(…) {`, `[key](…) {`, `get x() {`),
 * `function` and `class` sources never start that way.
 */
function isArrowFunctionSource(source: string): boolean {
  return /^(?:async\s*)?(?:\(|[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*\s*=>)/u.test(source);
}
