import { invariant } from './invariant';
import type { Entry, Snapshot } from './raft.types';
import { LogCompactedError, LogUnavailableError, type RaftStorage } from './storage.port';

/**
 * Entries (and possibly a snapshot) the core holds that the caller has not yet persisted.
 * `offset` is the index of `entries[0]`.
 */
class UnstableLog {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot && this.snapshot.metadata.index === index ? this.snapshot.metadata.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset].term;
  }

  stableTo(index: number, term: number): void {
    // The entries may have been replaced since they were handed out; only a matching term proves
    // that what was persisted is what is still here.
    if (this.maybeTerm(index) !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const after = entries[0].index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(entries);
    } else if (after <= this.offset) {
      this.offset = after;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    invariant(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable slice [${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

/** The log as the core sees it: stable storage followed by unstable entries (etcd `log.go`). */
export class RaftLog {
  readonly unstable: UnstableLog;
  committed: number;
  applied: number;

  constructor(readonly storage: RaftStorage) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /**
   * The last index handed out in a Ready and persisted (`stableTo`): every index up to it is on
   * disk with the term this log has there. 0 while a snapshot is on its way to the disk.
   */
  durableLastIndex(): number {
    return this.unstable.snapshot ? 0 : this.unstable.offset - 1;
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    invariant(term !== undefined, 'the last entry always has a term');
    return term;
  }

  /** The term at `index`, or undefined if compacted or beyond the log. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== undefined) return unstableTerm;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof LogCompactedError || error instanceof LogUnavailableError) return undefined;
      throw error;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends entries from a leader after checking that the log matches at (prevIndex, prevTerm).
   * Returns the last index the leader's message proves, or undefined on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      invariant(conflict > this.committed, () => `entry ${conflict} conflicts with a committed entry (committed ${this.committed})`);
      this.append(entries.slice(conflict - (prevIndex + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0].index - 1;
    invariant(after >= this.committed, () => `append after ${after} would overwrite committed ${this.committed}`);
    for (let i = 1; i < entries.length; i++) {
      invariant(entries[i].index === entries[i - 1].index + 1, 'appended entries are contiguous');
      invariant(entries[i].term >= entries[i - 1].term, 'terms never decrease along the log');
    }
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** The first index where `entries` disagree with the log, or 0 if all are already present. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  /** Entries in [lo, hi), at most `maxEntries`; throws LogCompactedError if lo is compacted. */
  slice(lo: number, hi: number, maxEntries: number): Entry[] {
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new LogCompactedError(lo, first);
    invariant(hi <= this.lastIndex() + 1, () => `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    hi = Math.min(hi, lo + maxEntries);
    const result: Entry[] = [];
    if (lo < this.unstable.offset) {
      result.push(...this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxEntries));
    }
    if (hi > this.unstable.offset) {
      result.push(...this.unstable.slice(Math.max(lo, this.unstable.offset), hi));
    }
    return result;
  }

  /** Committed entries not yet handed to the application. */
  nextCommittedEntries(maxEntries: number, from = this.applied + 1): Entry[] {
    const lo = Math.max(from, this.firstIndex());
    return this.slice(lo, this.committed + 1, maxEntries);
  }

  hasNextCommittedEntries(from = this.applied + 1): boolean {
    return this.committed >= Math.max(from, this.firstIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapshotTo(index: number): void {
    this.unstable.stableSnapshotTo(index);
  }
}
