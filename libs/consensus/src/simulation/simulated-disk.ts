import type { MemoryDisk } from '../driver/memory-disk';
import type { DurableReadyPart, RaftDisk } from '../driver/raft-loop.port';
import { invariant } from '../lib/invariant';
import type { ConfState } from '../lib/raft.types';

/**
 * The simulator's disk: a write becomes durable (in a `MemoryDisk`) only when the simulator
 * completes its fsync, some simulated milliseconds later; a crash before then may keep or lose it.
 * Snapshots and compaction are taken synchronously, as the file log takes them.
 */
export class SimulatedDisk implements RaftDisk {
  private pending: { readonly ready: DurableReadyPart; readonly onDurable: () => void } | undefined;

  /** `startFsync` schedules the fsync of the write just begun; the simulator calls `completeFsync` when it is due. */
  constructor(
    readonly durable: MemoryDisk,
    private readonly startFsync: () => void,
  ) {}

  /** True while a write is in flight: written, not yet fsync'd. */
  get writing(): boolean {
    return this.pending !== undefined;
  }

  write(ready: DurableReadyPart, onDurable: () => void): void {
    invariant(this.pending === undefined, 'a second write before the first one is durable');
    this.pending = { ready, onDurable };
    this.startFsync();
  }

  /** The fsync of the write in flight completes: it is durable and its writer hears so. Returns what became durable. */
  completeFsync(): DurableReadyPart | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    this.durable.write(p.ready, p.onDurable);
    return p.ready;
  }

  /** Power fails: the write in flight reached the platter or not, as drawn; its writer never hears. */
  crash(reachedPlatter: boolean): void {
    if (this.pending && reachedPlatter) this.durable.write(this.pending.ready, () => undefined);
    this.pending = undefined;
  }

  createSnapshot(index: number, confState: ConfState, data: string): void {
    this.durable.createSnapshot(index, confState, data);
  }
}
