import type { ConfState, Entry, Message, Ready, Snapshot } from '../lib/raft.types';

/** The part of a Ready that must be on stable storage before anything else of it happens. */
export type DurableReadyPart = Pick<Ready, 'snapshot' | 'entries' | 'hardState' | 'mustSync'>;

/**
 * Where a node's log becomes durable: an fsync'd file log in production, a disk with latency and
 * crashes in the simulator. The read side is the core's `RaftStorage` over the same log.
 */
export interface RaftDisk {
  /**
   * Writes a Ready's snapshot, entries and hard state (fsync'd when `ready.mustSync`) and calls
   * `onDurable` once they are durable: before returning for a blocking disk, later for one that is
   * not, never if a crash loses the write. Nothing else of that Ready happens before `onDurable`.
   */
  write(ready: DurableReadyPart, onDurable: () => void): void;
  /** Records the application's state at applied `index` as a snapshot; the disk decides how much log to keep behind it. */
  createSnapshot(index: number, confState: ConfState, data: string): void;
}

/** Where a node's outgoing messages go. Delivery is best-effort: Raft retries. */
export interface RaftSender {
  send(messages: readonly Message[]): void;
}

/** The application's replicated state: entries in, results out; snapshots both ways. */
export interface ReplicatedStateMachine<Result = unknown> {
  apply(entry: Entry): Result;
  restore(snapshot: Snapshot): void;
  snapshotData(): string;
}
