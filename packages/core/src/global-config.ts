import { Config, type ConfigOptions } from "./config.js";

/** The global configuration and a generation number that wrappers compare to notice a change. */
let current: Config = new Config();
let generation = 0;

/** The configuration in force. */
export function getGlobalConfig(): Config {
  return current;
}

/** Bumped by every `Mime.setConfig`; wrappers re-resolve their state when it changes. */
export function globalConfigGeneration(): number {
  return generation;
}

/**
 * Replaces the global configuration. Resolves once the previous state is closed, if the previous
 * config created it from a class; a close failure is passed to the previous config's `onError`
 * context-free handler or ignored, never left as an unhandled rejection.
 */
export function setGlobalConfig(next: Config | ConfigOptions): Promise<void> {
  const previous = current;
  current = next instanceof Config ? next : new Config(next);
  generation++;
  if (previous === current) return Promise.resolve();
  return previous.close().catch((error: unknown) => {
    process.emitWarning(`Mimic: closing the previous state failed: ${error instanceof Error ? error.message : String(error)}`, {
      code: "MIMIC_STATE_ERROR",
    });
  });
}
