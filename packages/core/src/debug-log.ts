import { subscribe } from "node:diagnostics_channel";
import { debuglog } from "node:util";
import { MIMIC_CHANNELS, type MimicErrorEvent, type MimicEvent } from "./events.js";

/** A backend operation slower than this is flagged in the debug log. */
const SLOW_MS = 100;

/**
 * `NODE_DEBUG=mimic node app.js` logs every hit, miss, write, stale answer and error, with its key,
 * state and duration, and flags backend operations slower than 100 ms — through `util.debuglog`,
 * by subscribing to Mimic's own `diagnostics_channel` channels. Without `NODE_DEBUG=mimic` nothing
 * is subscribed, so it costs nothing.
 */
export function startDebugLog(): void {
  const log = debuglog("mimic");
  if (!log.enabled) return;
  for (const [what, name] of Object.entries(MIMIC_CHANNELS)) {
    subscribe(name, (message) => {
      const event = message as MimicEvent & Partial<MimicErrorEvent> & { reason?: string };
      const slow = event.duration >= SLOW_MS && what !== "miss" ? " SLOW" : "";
      const detail = event.error !== undefined ? ` ${event.operation} failed: ${event.error.code} ${event.error.message}` : event.reason !== undefined ? ` (${event.reason})` : "";
      log("%s%s %s on %s key=%s %sms%s", what, slow, event.functionName, event.state, event.key.slice(0, 200), event.duration.toFixed(2), detail);
    });
  }
}
