import type { RunContext } from "./context.js";
import type { Table } from "./types.js";

/** One numbered scenario of the issue; it may print more than one table (scenario 9: sync and async). */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Ids of its tables, so a skipped scenario still prints every table it owns. */
  readonly tables: readonly { id: string; title: string; measures: string }[];
  run(context: RunContext): Promise<Table[]>;
}
