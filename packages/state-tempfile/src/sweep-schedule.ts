import type { SweepReport } from "./sweep.js";

/** What a sweep saw of this state's writes when it started. */
export interface SweepStart {
  readonly writes: number;
  readonly bytes: number;
}

/**
 * Decides when this state's writes call for a sweep: after `sweepEvery` writes and invalidations, or as soon as the
 * entries and bytes known at the last sweep plus those written since could exceed the bounds. What
 * other processes wrote is learnt at the next sweep; until a first sweep, a shared directory's
 * content is unknown (Infinity), so the first write with a bound sweeps.
 */
export class SweepSchedule {
  private writesSinceSweep = 0;
  private bytesSinceSweep = 0;
  private entriesAtSweep: number;
  private bytesAtSweep: number;

  constructor(
    private readonly sweepEvery: number,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    shared: boolean,
  ) {
    this.entriesAtSweep = shared ? Infinity : 0;
    this.bytesAtSweep = shared ? Infinity : 0;
  }

  /** Counts a write of `chunks`; whether it calls for a sweep. */
  countWrite(chunks: readonly Buffer[]): boolean {
    this.writesSinceSweep++;
    for (const chunk of chunks) this.bytesSinceSweep += chunk.length;
    return (
      (this.sweepEvery > 0 && this.writesSinceSweep >= this.sweepEvery) ||
      this.entriesAtSweep + this.writesSinceSweep > this.maxEntries ||
      this.bytesAtSweep + this.bytesSinceSweep > this.maxBytes
    );
  }

  /**
   * Counts an invalidation (it leaves stamps for a sweep to remove: see `fences.ts`) like a write of
   * no bytes; whether it calls for a sweep.
   */
  countInvalidation(): boolean {
    return this.countWrite([]);
  }

  /** Notes what a sweep starting now will have seen. */
  start(): SweepStart {
    return { writes: this.writesSinceSweep, bytes: this.bytesSinceSweep };
  }

  /** Records a finished sweep; writes made while an async sweep ran may or may not have been seen by it, so they stay counted. */
  finish(report: SweepReport, started: SweepStart): SweepReport {
    this.writesSinceSweep -= started.writes;
    this.bytesSinceSweep -= started.bytes;
    this.entriesAtSweep = report.entries;
    this.bytesAtSweep = report.bytes;
    return report;
  }

  /** Records that the directory was emptied. */
  cleared(): void {
    this.writesSinceSweep = 0;
    this.bytesSinceSweep = 0;
    this.entriesAtSweep = 0;
    this.bytesAtSweep = 0;
  }
}
