/** How long each case runs; `--quick` shrinks everything so CI only checks that the harness works. */
export interface RunSettings {
  /** `--quick`: each case runs briefly; numbers are not meant to be read. */
  readonly quick: boolean;
  /** Measured time budget per case, over all rounds, in milliseconds. */
  readonly timeMs: number;
  /** Warm-up time before a case's first round, in milliseconds. */
  readonly warmupMs: number;
  /** Rounds per scenario: every case runs once per round, in rotated order, and samples are pooled. */
  readonly rounds: number;
  /** Minimum samples per case and round. */
  readonly minIterations: number;
}

/** One row of a scenario: a memoizer or cache set up for the scenario, and how to drive it. */
export interface Case {
  /** The row label: library and the options it is used with. */
  readonly name: string;
  /** The row the others are compared with (exactly one per table). */
  readonly reference?: boolean;
  /** Operations one call of {@link Case.run} performs; the sample time is divided by it. */
  readonly ops: number;
  /** One sample: runs {@link Case.ops} operations. */
  readonly run: () => unknown;
  /**
   * Whether `run` returns a promise to await. Given explicitly: tinybench would otherwise call `run`
   * once outside any hook to find out, which turns the first sample of a miss case into a hit.
   */
  readonly async: boolean;
  /** Runs after each sample, outside the timed window (e.g. deletes what a miss stored). */
  readonly afterEach?: () => unknown;
  /** Multiplies the time budget (cases whose `afterEach` costs as much as the sample). */
  readonly timeFactor?: number;
  /** Extra columns, read after measuring (e.g. executions per burst). */
  readonly extra?: () => Record<string, string | number>;
  /** Function executions so far; in hit scenarios any executions while measuring are reported. */
  readonly executions?: () => number;
}

/** A measured row. */
export interface Row {
  readonly name: string;
  readonly reference: boolean;
  /** Median time per operation, in nanoseconds. */
  readonly medianNs: number;
  /** 10th percentile of the time per operation, in nanoseconds: the run's least disturbed samples. */
  readonly p10Ns: number;
  /** Operations per second at the median (1e9 / medianNs). */
  readonly opsPerSec: number;
  /** medianNs / the reference row's medianNs: below 1 is faster than the reference. */
  readonly ratio: number;
  /** Samples pooled over all rounds. */
  readonly samples: number;
  /** Operations per sample (the sample time is divided by it). */
  readonly opsPerSample: number;
  /** Median absolute deviation of the per-operation times, as a percentage of the median. */
  readonly madPct: number;
  /** Function executions while measuring (0 for a pure hit scenario), when counted. */
  readonly executionsWhileMeasuring?: number;
  readonly extra: Record<string, string | number>;
}

/** A goal from the issue, evaluated on this run's numbers. */
export interface Goal {
  readonly text: string;
  /** `null`: could not be evaluated (a row is missing). */
  readonly met: boolean | null;
  readonly detail: string;
}

/** One printed table. */
export interface Table {
  readonly id: string;
  readonly title: string;
  /** What one operation is. */
  readonly measures: string;
  readonly rows: readonly Row[];
  readonly goals: readonly Goal[];
  readonly notes: readonly string[];
  /** Why the table was not measured, when it was not. */
  readonly skipped?: string;
  /**
   * A table of values rather than timings (hit ratios, bytes per entry): its columns are these keys
   * of each row's `extra`, after the row name, in place of the timing columns (whose fields are NaN).
   */
  readonly valueColumns?: readonly string[];
}
