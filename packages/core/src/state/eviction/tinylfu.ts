import { expiredAt, Segment, type MemoryEntry } from "../memory-entry.js";
import { EntryList } from "./entry-list.js";
import { FrequencySketch, MAX_FREQUENCY } from "./frequency-sketch.js";
import { HillClimber } from "./hill-climber.js";
import { hashEntry } from "./key-hash.js";
import type { EvictionPolicy } from "./policy.js";

/** The admission window's initial share of the bound (Caffeine's 1 %). */
const WINDOW_SHARE = 0.01;
/** The protected segment's share of the main area. */
const PROTECTED_SHARE = 0.8;
/** Requests per sample (aging the sketch, adapting the window), per entry of the bound. */
const SAMPLE_PER_ENTRY = 10;
/** How many recently used entries one look at a list's oldest end may pass over. */
const SECOND_CHANCES = 8;
/**
 * A rejected candidate this frequent is still admitted once in 128 times, so that keys crafted to
 * collide with a victim in the sketch cannot keep every newcomer out (Caffeine's guard).
 */
const RANDOM_ADMISSION_FREQUENCY = 6;

/**
 * W-TinyLFU: new entries enter a small admission window (first in, first out); the entry the window
 * pushes out (the candidate) enters the main area only if a frequency sketch says it is used more
 * often than the main area's victim, which goes instead. The main area is a segmented LRU: entries reused while
 * on probation are promoted to the protected segment (80 % of it), whose overflow is demoted back to
 * probation, where victims are taken. A one-hit scan thus passes through the window without
 * flushing the frequently used entries, and a loop larger than the cache keeps a stable part of it.
 * The window's size adapts by hill climbing on the hit rate (between 1 % and most of the bound), so
 * recency-friendly workloads get a large window.
 *
 * Hits do not touch the policy: they bump the entry's `hits` counter, which the policy reads and
 * resets when it looks at the entry (to give it a second chance, to promote it, to compare it) and
 * when it reads every entry to close a sample (every quarter to whole `maxEntries` of writes), adding
 * the accesses to the sketch then. Each list is a CLOCK approximation of an LRU for the same reason.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  private readonly window = new EntryList();
  private readonly probation = new EntryList();
  private readonly protected = new EntryList();
  private readonly sketch: FrequencySketch;
  private readonly climber: HillClimber;
  private windowMax: number;
  /**
   * The window never shrinks below its initial 1 %: an entry just written stays for the next
   * `minWindow` writes at least, so a call repeated soon after is a hit even when nothing repeats
   * otherwise (the climber would otherwise shrink the window to one entry on a stream of one-hit keys).
   */
  private readonly minWindow: number;
  private protectedMax: number;
  private readonly sampleSize: number;
  /** Hits counted into the current sample (read from the entries' counters when the policy looks). */
  private sampleHits = 0;
  /** Writes of new entries in the current sample: the misses. */
  private sampleMisses = 0;
  /** New entries to add before every entry's hits are read again (to see whether the sample is complete). */
  private addsUntilLook: number;
  /** Whether the bound has been reached: the climber only samples a full cache. */
  private full = false;
  /** xorshift32 state for the random admission (seeded: a run is reproducible). */
  private random = 0x2545f491;

  constructor(private readonly maxEntries: number) {
    this.sketch = new FrequencySketch(maxEntries);
    this.climber = new HillClimber(maxEntries);
    this.windowMax = maxEntries - Math.floor((1 - WINDOW_SHARE) * maxEntries);
    this.minWindow = this.windowMax;
    this.protectedMax = Math.floor(PROTECTED_SHARE * (maxEntries - this.windowMax));
    this.sampleSize = SAMPLE_PER_ENTRY * maxEntries;
    this.addsUntilLook = maxEntries;
  }

  get size(): number {
    return this.window.count + this.probation.count + this.protected.count;
  }

  add(entry: MemoryEntry): MemoryEntry | undefined {
    entry.hash = hashEntry(entry);
    this.sketch.ensureCapacity(this.size + 1);
    this.sketch.add(entry.hash, 1);
    this.sampleMisses++;
    // The candidate is taken before the new entry joins the window, so it is never the new entry.
    const candidate = this.window.count >= this.windowMax ? this.takeFromWindow() : undefined;
    this.place(entry, this.window, Segment.Window);
    let evicted: MemoryEntry | undefined;
    if (candidate !== undefined) {
      if (this.probation.count + this.protected.count < this.maxEntries - this.windowMax) {
        this.place(candidate, this.probation, Segment.Probation);
      } else {
        this.full = true;
        evicted = this.admit(candidate, Date.now());
      }
    }
    if (--this.addsUntilLook <= 0 || this.sampleHits + this.sampleMisses >= this.sampleSize) this.sample(Date.now());
    return evicted;
  }

  remove(entry: MemoryEntry): void {
    this.count(entry);
    this.listOf(entry.segment)?.unlink(entry);
    entry.segment = Segment.None;
  }

  clear(): void {
    this.window.clear();
    this.probation.clear();
    this.protected.clear();
  }

  forEach(visit: (entry: MemoryEntry) => void): void {
    this.window.forEach(visit);
    this.probation.forEach(visit);
    this.protected.forEach(visit);
  }

  /** Counts the accesses `entry` had since the policy last looked, in the sketch and the sample. */
  private count(entry: MemoryEntry): void {
    const hits = entry.hits;
    if (hits === 0) return;
    entry.hits = 0;
    this.sampleHits += hits;
    this.sketch.add(entry.hash, Math.min(hits, MAX_FREQUENCY));
  }

  private listOf(segment: Segment): EntryList | undefined {
    if (segment === Segment.Window) return this.window;
    if (segment === Segment.Probation) return this.probation;
    if (segment === Segment.Protected) return this.protected;
    return undefined;
  }

  private place(entry: MemoryEntry, list: EntryList, segment: Segment): void {
    entry.segment = segment;
    list.append(entry);
  }

  /**
   * Takes the window's oldest entry out of it. The window is first in, first out: an entry reused
   * while in it does not move (with a CLOCK's second chance it would move behind newer entries not
   * yet reused and push them out first); its reuse counts instead when it competes for the main area.
   */
  private takeFromWindow(): MemoryEntry | undefined {
    const entry = this.window.oldest;
    if (entry === undefined) return undefined;
    this.window.unlink(entry);
    entry.segment = Segment.None;
    return entry;
  }

  /**
   * The candidate from the window against the main area's victim: the more frequent one stays, the
   * other is returned for eviction (still held by its list if it is the victim).
   */
  private admit(candidate: MemoryEntry, now: number): MemoryEntry {
    const victim = this.mainVictim(now);
    if (victim === undefined) return candidate;
    let admitted: boolean;
    if (expiredAt(candidate, now)) admitted = false;
    else if (expiredAt(victim, now)) admitted = true;
    else {
      this.count(candidate);
      this.count(victim);
      const candidateFrequency = this.sketch.frequency(candidate.hash);
      const victimFrequency = this.sketch.frequency(victim.hash);
      admitted =
        candidateFrequency > victimFrequency ||
        (candidateFrequency >= RANDOM_ADMISSION_FREQUENCY && (this.nextRandom() & 127) === 0);
    }
    if (!admitted) return candidate;
    this.place(candidate, this.probation, Segment.Probation);
    return victim;
  }

  /**
   * The probation segment's least recently used entry. Entries reused while on probation are
   * promoted to the protected segment on the way (a bounded number of them), whose overflow is
   * demoted to probation's back.
   */
  private mainVictim(now: number): MemoryEntry | undefined {
    let chances = SECOND_CHANCES;
    for (let entry = this.probation.oldest; entry !== undefined; entry = this.probation.oldest) {
      if (entry.hits === 0 || chances-- <= 0 || expiredAt(entry, now)) return entry;
      this.count(entry);
      this.probation.unlink(entry);
      this.place(entry, this.protected, Segment.Protected);
      this.demoteOverflow(now);
    }
    return this.protected.oldest;
  }

  /** Moves the protected segment's least recently used entries to probation until it fits its share. */
  private demoteOverflow(now: number): void {
    let chances = SECOND_CHANCES;
    while (this.protected.count > this.protectedMax) {
      const entry = this.protected.oldest!;
      this.protected.unlink(entry);
      if (entry.hits !== 0 && chances-- > 0 && !expiredAt(entry, now)) {
        this.count(entry);
        this.protected.append(entry);
        continue;
      }
      this.place(entry, this.probation, Segment.Probation);
    }
  }

  /**
   * Reads every entry's hits into the sketch and the sample; once the sample holds enough requests,
   * adapts the window to the hit rate and ages the sketch.
   */
  private sample(now: number): void {
    this.forEach((entry) => this.count(entry));
    const requests = this.sampleHits + this.sampleMisses;
    const complete = requests >= this.sampleSize;
    if (complete && this.full) this.resize(this.climber.adjustment(this.sampleHits, this.sampleMisses), now);
    if (complete) this.sketch.halve();
    // Look again after as many writes as the rest of the sample should take at this miss rate, but
    // at least every `maxEntries` writes and at most every 1/4 of it (a look reads every entry).
    const remaining = complete ? this.sampleSize : this.sampleSize - requests;
    const expected = Math.ceil((remaining * this.sampleMisses) / Math.max(1, requests));
    this.addsUntilLook = Math.min(this.maxEntries, Math.max(Math.ceil(this.maxEntries / 4), expected));
    if (complete) this.sampleHits = this.sampleMisses = 0;
  }

  /** Grows the window by `delta` entries (shrinks it if negative), moving entries between areas. */
  private resize(delta: number, now: number): void {
    if (delta > 0) {
      const quota = Math.min(delta, this.protectedMax);
      this.windowMax += quota;
      this.protectedMax -= quota;
      this.demoteOverflow(now);
      const mainMax = this.maxEntries - this.windowMax;
      while (this.probation.count + this.protected.count > mainMax) {
        const entry = (this.probation.oldest ?? this.protected.oldest)!;
        this.listOf(entry.segment)!.unlink(entry);
        this.place(entry, this.window, Segment.Window);
      }
    } else if (delta < 0) {
      const quota = Math.min(-delta, this.windowMax - this.minWindow);
      this.windowMax -= quota;
      this.protectedMax += quota;
      while (this.window.count > this.windowMax) {
        const entry = this.window.oldest!;
        this.window.unlink(entry);
        this.place(entry, this.probation, Segment.Probation);
      }
    }
  }

  private nextRandom(): number {
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x;
    return x;
  }
}
