import type { ConfState, Entry, HardState, Snapshot } from './raft.types';

/**
 * What the core reads from stable storage (etcd-io/raft `storage.go`). The core never writes
 * through this port: the caller persists what `Ready` hands out, then calls `advance()`.
 * Indexes below `firstIndex()` have been compacted into the snapshot.
 */
export interface RaftStorage {
  initialState(): { readonly hardState: HardState; readonly confState: ConfState };
  /** Entries in [lo, hi), at most `maxEntries` of them. Throws `LogCompactedError` if lo <= snapshot index. */
  entries(lo: number, hi: number, maxEntries: number): readonly Entry[];
  /** The term of entry `index`; the snapshot's term at its own index. Throws `LogCompactedError` below that. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export const RAFT_STORAGE = Symbol('RAFT_STORAGE');

export class LogCompactedError extends Error {
  constructor(index: number, firstIndex: number) {
    super(`index ${index} is compacted (first index ${firstIndex})`);
    this.name = 'LogCompactedError';
  }
}

export class LogUnavailableError extends Error {
  constructor(index: number, lastIndex: number) {
    super(`index ${index} is beyond the last index ${lastIndex}`);
    this.name = 'LogUnavailableError';
  }
}
