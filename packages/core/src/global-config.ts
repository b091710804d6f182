import { Config, type ConfigOptions } from "./config.js";

/**
 * The global configuration and a generation number that wrappers compare to notice a change. Held
 * on `globalThis` under a `Symbol.for` key, so that the ESM and CJS builds of Mimic loaded in one
 * process (an ESM app and a CommonJS dependency) share one configuration.
 */
interface GlobalSlot {
  current: Config;
  generation: number;
}

const slotKey = Symbol.for("@mimic/core/global-config@1");
const slot: GlobalSlot = ((globalThis as Record<symbol, unknown>)[slotKey] ??= { current: new Config(), generation: 0 } satisfies GlobalSlot) as GlobalSlot;

/** The configuration in force. */
export function getGlobalConfig(): Config {
  return slot.current;
}

/** Bumped by every `Mime.setConfig`; wrappers re-resolve their state when it changes. */
export function globalConfigGeneration(): number {
  return slot.generation;
}

/** A `Config` built by either build of Mimic (the other build's class is another class object). */
function isConfig(value: unknown): value is Config {
  if (value instanceof Config) return true;
  const candidate = value as Partial<Config> | null;
  return typeof candidate === "object" && candidate !== null && typeof candidate.getState === "function" && typeof candidate.close === "function";
}

/**
 * Replaces the global configuration. Resolves once the previous state is closed, if the previous
 * config created it from a class; a close failure is passed to the previous config's `onError`
 * context-free handler or ignored, never left as an unhandled rejection.
 */
export function setGlobalConfig(next: Config | ConfigOptions): Promise<void> {
  const previous = slot.current;
  slot.current = isConfig(next) ? next : new Config(next);
  slot.generation++;
  if (previous === slot.current) return Promise.resolve();
  return previous.close().catch((error: unknown) => {
    process.emitWarning(`Mimic: closing the previous state failed: ${error instanceof Error ? error.message : String(error)}`, {
      code: "MIMIC_STATE_ERROR",
    });
  });
}
