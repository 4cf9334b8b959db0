import type { MemoryStorage } from '../lib/memory-storage';
import type { ConfState } from '../lib/raft.types';
import type { DurableReadyPart, RaftDisk } from './raft-loop.port';

export interface MemoryDiskOptions {
  /** Entries left in the log behind a snapshot, so a slightly lagging follower still catches up from the log. */
  readonly entriesKeptAfterSnapshot?: number;
}

/**
 * The in-memory `RaftDisk`: every write is durable at once, into a `MemoryStorage` that is also
 * the node's read side. Tests use it as is; the simulator puts latency and crashes in front of it.
 */
export class MemoryDisk implements RaftDisk {
  private readonly entriesKeptAfterSnapshot: number;

  constructor(
    readonly storage: MemoryStorage,
    options: MemoryDiskOptions = {},
  ) {
    this.entriesKeptAfterSnapshot = options.entriesKeptAfterSnapshot ?? 0;
  }

  write(ready: DurableReadyPart, onDurable: () => void): void {
    if (ready.snapshot) this.storage.applySnapshot(ready.snapshot);
    this.storage.append(ready.entries);
    if (ready.hardState) this.storage.setHardState(ready.hardState);
    onDurable();
  }

  createSnapshot(index: number, confState: ConfState, data: string): void {
    const storage = this.storage;
    storage.createSnapshot(index, confState, data);
    storage.compact(Math.max(storage.firstIndex() - 1, index - this.entriesKeptAfterSnapshot));
  }
}
