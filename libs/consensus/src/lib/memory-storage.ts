import { invariant } from './invariant';
import { EMPTY_HARD_STATE, type ConfState, type Entry, type HardState, type Snapshot } from './raft.types';
import { LogCompactedError, LogUnavailableError, type RaftStorage } from './storage.port';

/**
 * The in-memory `RaftStorage`: tests, the simulator (as the "durable" side of a simulated disk)
 * and the file log (as its read cache) use it. `entries[0]` is a dummy at the snapshot index that
 * carries the snapshot's term, so term lookups at the compaction boundary need no special case.
 */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private log: Entry[];

  constructor(initialConf: ConfState = { voters: [] }) {
    this.snap = { metadata: { index: 0, term: 0, confState: initialConf }, data: '' };
    this.log = [{ kind: 'normal', index: 0, term: 0, data: '' }];
  }

  initialState() {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  firstIndex(): number {
    return this.log[0].index + 1;
  }

  lastIndex(): number {
    return this.log[0].index + this.log.length - 1;
  }

  term(index: number): number {
    const offset = this.log[0].index;
    if (index < offset) throw new LogCompactedError(index, this.firstIndex());
    if (index - offset >= this.log.length) throw new LogUnavailableError(index, this.lastIndex());
    return this.log[index - offset].term;
  }

  entries(lo: number, hi: number, maxEntries: number): readonly Entry[] {
    const offset = this.log[0].index;
    if (lo <= offset) throw new LogCompactedError(lo, this.firstIndex());
    invariant(hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    return this.log.slice(lo - offset, Math.min(hi, lo + maxEntries) - offset);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Appends entries, dropping any existing suffix they conflict with. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    const fresh = first > entries[0].index ? entries.slice(first - entries[0].index) : entries;
    const offset = fresh[0].index - this.log[0].index;
    invariant(offset <= this.log.length, () => `append leaves a gap: log ends at ${this.lastIndex()}, entries start at ${fresh[0].index}`);
    this.log = this.log.slice(0, offset).concat(fresh);
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.snap.metadata.index) return;
    this.snap = snapshot;
    this.log = [{ kind: 'normal', index: snapshot.metadata.index, term: snapshot.metadata.term, data: '' }];
  }

  /** Records the application's state at `index` (which must be applied) as the new snapshot. */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    invariant(index <= this.lastIndex(), () => `snapshot at ${index} beyond last index ${this.lastIndex()}`);
    if (index <= this.snap.metadata.index) return this.snap;
    this.snap = { metadata: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Drops entries up to and including `compactIndex`; it must not pass the snapshot. */
  compact(compactIndex: number): void {
    const offset = this.log[0].index;
    if (compactIndex <= offset) return;
    invariant(compactIndex <= this.snap.metadata.index, () => `compact(${compactIndex}) past snapshot ${this.snap.metadata.index}`);
    const term = this.term(compactIndex);
    this.log = [{ kind: 'normal', index: compactIndex, term, data: '' } as Entry].concat(this.log.slice(compactIndex - offset + 1));
  }

  /** A deep-enough copy for simulated crashes: entries are immutable, so sharing them is safe. */
  clone(): MemoryStorage {
    const copy = new MemoryStorage(this.snap.metadata.confState);
    copy.hardState = this.hardState;
    copy.snap = this.snap;
    copy.log = this.log.slice();
    return copy;
  }
}
