import { invariant } from '../lib/invariant';
import type { ProposeResult, RaftConfig, ReadIndexResult } from '../lib/raft';
import type { Entry, Message, NodeId, Ready } from '../lib/raft.types';
import { RawNode } from '../lib/raw-node';
import type { RaftDisk, RaftSender, ReplicatedStateMachine } from './raft-loop.port';

export const DEFAULT_SNAPSHOT_EVERY_ENTRIES = 10_000;

export interface RaftLoopOptions<Result> {
  /** The core's configuration; `storage` is the read side of the log `disk` writes. */
  readonly node: RaftConfig;
  readonly disk: RaftDisk;
  readonly sender: RaftSender;
  readonly stateMachine: ReplicatedStateMachine<Result>;
  /** Take a snapshot (and let the disk compact the log) once this many entries have applied since the last one. */
  readonly snapshotEveryEntries?: number;
  /**
   * Send a leader's appends before its own disk write (Raft thesis §10.2.1), so followers write
   * while it does. Off by default: with the three replicas on one 2-core machine and an fsync of
   * ~0.2 ms it cost CPU per operation (shorter rounds, smaller batches) and gained nothing
   * (docs/benchmarks.md); it pays where each replica has its own disk and an fsync is slow.
   */
  readonly sendAppendsBeforePersist?: boolean;
}

/** How a proposal ended, as this node can tell. */
export type ProposalOutcome<Result> =
  | { readonly status: 'applied'; readonly result: Result }
  /** Another entry committed at its index: it never applies anywhere. */
  | { readonly status: 'superseded'; readonly index: number }
  /** A snapshot from the leader covered its index: it may or may not have applied; this node cannot tell. */
  | { readonly status: 'unknown'; readonly index: number }
  | { readonly status: 'stopped' };

/** A linearizable read may be served (the state machine reflects every write committed before it), or never will be. */
export type ReadOutcome = { readonly status: 'ready' } | { readonly status: 'stopped' };

interface WriteWaiter<Result> {
  readonly term: number;
  settle(outcome: ProposalOutcome<Result>): void;
}

interface ReadWaiter {
  index: number | undefined;
  settle(outcome: ReadOutcome): void;
}

/**
 * One Raft node's Ready loop, with no clock and no I/O of its own (the loop of etcd-io/raft's
 * `raftexample`): inputs go to the RawNode, and `process()` handles each Ready in order —
 * persist (wait for the disk to say durable) → send → apply → advance — so nothing is sent that a
 * crash could unsay, and nothing applies that is not durable. With `sendAppendsBeforePersist` a
 * leader's appends leave before the write (they promise nothing: it counts its own copy only
 * from `advance` on). Proposals settle when their index
 * applies; reads once the state machine has caught up with their ReadIndex. The production
 * driver wraps it with timers, a transport and a file log; the simulator with simulated ones.
 * Outcomes are reported through synchronous callbacks, so a simulation stays deterministic.
 */
export class RaftLoop<Result = unknown> {
  readonly raw: RawNode;
  private readonly writes = new Map<number, WriteWaiter<Result>>();
  private readonly reads = new Map<string, ReadWaiter>();
  private readonly snapshotEveryEntries: number;
  private readonly sendAppendsBeforePersist: boolean;
  private appliedIndex: number;
  private nextReadId = 0;
  /** The Ready handed to the disk and not yet finished; `durable` once the disk says so. */
  private writing: Ready | undefined;
  private durable = false;
  private processing = false;
  private stopped = false;

  constructor(private readonly options: RaftLoopOptions<Result>) {
    this.raw = new RawNode(options.node);
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? DEFAULT_SNAPSHOT_EVERY_ENTRIES;
    invariant(this.snapshotEveryEntries > 0, 'snapshotEveryEntries must be positive');
    this.sendAppendsBeforePersist = options.sendAppendsBeforePersist ?? false;
    const snapshot = options.node.storage.snapshot();
    if (snapshot.metadata.index > 0) options.stateMachine.restore(snapshot);
    this.appliedIndex = snapshot.metadata.index;
  }

  get id(): NodeId {
    return this.raw.id;
  }

  /** The last index applied to the state machine. */
  get applied(): number {
    return this.appliedIndex;
  }

  tick(): void {
    this.raw.tick();
  }

  step(message: Message): void {
    this.raw.step(message);
  }

  /** Proposes `data`; if accepted, `settle` hears how it ended (never synchronously). */
  propose(data: string, settle: (outcome: ProposalOutcome<Result>) => void): ProposeResult {
    const result = this.raw.propose(data);
    if (result.ok) this.writes.set(result.index, { term: result.term, settle });
    return result;
  }

  /** Asks for a linearizable read; if accepted, `settle` hears when it may be served (never synchronously). */
  readIndex(settle: (outcome: ReadOutcome) => void): ReadIndexResult {
    const context = `${this.raw.id}:${++this.nextReadId}`;
    const result = this.raw.readIndex(context);
    if (result.ok) this.reads.set(context, { index: undefined, settle });
    return result;
  }

  /**
   * Does the work that is ready, Ready by Ready, until there is none or a write is still on its
   * way to the disk (its `onDurable` picks the loop up again). Call it after any input.
   */
  process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.stopped) {
        const rd = this.writing;
        if (rd) {
          if (!this.durable) return;
          this.writing = undefined;
          this.durable = false;
          this.finish(rd);
          continue;
        }
        if (!this.raw.hasReady()) return;
        const next = this.raw.ready();
        this.writing = next;
        // 1. a leader's appends may leave now, so the followers write while we do.
        if (this.sendAppendsBeforePersist && next.messagesBeforePersist.length > 0) this.options.sender.send(next.messagesBeforePersist);
        // 2. persist: the disk may say durable before returning (a blocking fsync) or later.
        this.options.disk.write(next, () => this.onDurable(next));
      }
    } finally {
      this.processing = false;
    }
  }

  /** No more work: every waiting proposal and read hears `stopped`. A write in flight is abandoned. */
  stop(): void {
    this.stopped = true;
    const writes = [...this.writes.values()];
    const reads = [...this.reads.values()];
    this.writes.clear();
    this.reads.clear();
    for (const w of writes) w.settle({ status: 'stopped' });
    for (const r of reads) r.settle({ status: 'stopped' });
  }

  private onDurable(rd: Ready): void {
    if (this.stopped || this.writing !== rd) return;
    this.durable = true;
    this.process();
  }

  /** Steps 3-5 of a Ready whose durable part is on the disk. */
  private finish(rd: Ready): void {
    // 3. send what had to wait for the disk (and a leader's appends, unless they went in step 1)
    const messages = this.sendAppendsBeforePersist ? rd.messages : [...rd.messagesBeforePersist, ...rd.messages];
    if (messages.length > 0) this.options.sender.send(messages);
    // 4. apply
    if (rd.snapshot) {
      this.options.stateMachine.restore(rd.snapshot);
      this.appliedIndex = rd.snapshot.metadata.index;
      this.settleWritesCoveredBy(this.appliedIndex);
    }
    for (const entry of rd.committedEntries) this.applyEntry(entry);
    for (const rs of rd.readStates) {
      const read = this.reads.get(rs.context);
      if (read) read.index = rs.index;
    }
    // 5. advance (a leader now counts its own entries toward a commit)
    this.raw.advance();
    this.serveReads();
    this.maybeSnapshot();
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.appliedIndex) return;
    invariant(entry.index === this.appliedIndex + 1, () => `entry ${entry.index} applies after ${this.appliedIndex}: a gap`);
    const result = this.options.stateMachine.apply(entry);
    this.appliedIndex = entry.index;
    const waiter = this.writes.get(entry.index);
    if (!waiter) return;
    this.writes.delete(entry.index);
    waiter.settle(waiter.term === entry.term ? { status: 'applied', result } : { status: 'superseded', index: entry.index });
  }

  private settleWritesCoveredBy(index: number): void {
    for (const [i, w] of this.writes) {
      if (i > index) continue;
      this.writes.delete(i);
      w.settle({ status: 'unknown', index: i });
    }
  }

  private serveReads(): void {
    for (const [context, read] of this.reads) {
      if (read.index !== undefined && read.index <= this.appliedIndex) {
        this.reads.delete(context);
        read.settle({ status: 'ready' });
      }
    }
  }

  private maybeSnapshot(): void {
    const applied = this.appliedIndex;
    if (applied - this.options.node.storage.snapshot().metadata.index < this.snapshotEveryEntries) return;
    // A snapshot from the leader is on its way to the disk: the core no longer knows the
    // configuration at `applied`, and that snapshot replaces whatever we would take here.
    if (applied < this.raw.status().firstIndex - 1) return;
    this.options.disk.createSnapshot(applied, this.raw.confStateAt(applied), this.options.stateMachine.snapshotData());
  }
}
