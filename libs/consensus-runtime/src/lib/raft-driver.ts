import { randomInt } from 'node:crypto';
import {
  RawNode,
  SeededRandom,
  type ConfState,
  type Entry,
  type NodeId,
  type RaftStatus,
  type RaftStorage,
  type Ready,
  type Snapshot,
} from '@cairn/consensus';
import { CairnError } from '@cairn/protocol';
import type { RaftTransport } from './raft-transport.port';

/** The durable side the driver writes through: FileLogAdapter, or MemoryStorage-backed fakes. */
export interface DurableRaftStorage extends RaftStorage {
  save(ready: Pick<Ready, 'snapshot' | 'entries' | 'hardState' | 'mustSync'>): void;
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot;
}

/** The application's replicated state: entries in, results out; snapshots both ways. */
export interface ReplicatedStateMachine<Result = unknown> {
  apply(entry: Entry): Result;
  restore(snapshot: Snapshot): void;
  snapshotData(): string;
}

export const RaftErrorCodes = {
  NotLeader: 'RAFT_NOT_LEADER',
  Superseded: 'RAFT_PROPOSAL_SUPERSEDED',
  Stopped: 'RAFT_STOPPED',
} as const;

export interface RaftDriverOptions<Result> {
  readonly id: NodeId;
  readonly storage: DurableRaftStorage;
  readonly transport: RaftTransport;
  readonly stateMachine: ReplicatedStateMachine<Result>;
  readonly tickMs: number;
  readonly electionTimeoutTicks?: number;
  readonly heartbeatIntervalTicks?: number;
  /** Take a snapshot (and compact the log) after this many applied entries. */
  readonly snapshotEveryEntries?: number;
}

export const DEFAULT_SNAPSHOT_EVERY_ENTRIES = 10_000;

interface Waiter<Result> {
  readonly term: number;
  resolve(result: Result): void;
  reject(error: Error): void;
}

/**
 * Runs a RawNode for real: a timer ticks it, the transport feeds it, and every Ready is handled in
 * order — persist (fsync) → send → apply → advance — so nothing is sent that a crash could unsay.
 * Proposals resolve when their entry applies; reads resolve once the state machine has caught up
 * with a ReadIndex.
 */
export class RaftDriver<Result = unknown> {
  readonly raw: RawNode;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = false;
  private readonly writes = new Map<number, Waiter<Result>>();
  private readonly reads = new Map<string, { index: number | undefined; resolve(): void; reject(error: Error): void }>();
  private appliedIndex: number;
  private nextReadId = 0;
  private lastSnapshotIndex: number;

  constructor(private readonly options: RaftDriverOptions<Result>) {
    this.raw = new RawNode({
      id: options.id,
      storage: options.storage,
      random: new SeededRandom(randomInt(2 ** 31)),
      electionTimeoutTicks: options.electionTimeoutTicks,
      heartbeatIntervalTicks: options.heartbeatIntervalTicks,
    });
    const snapshot = options.storage.snapshot();
    if (snapshot.metadata.index > 0) options.stateMachine.restore(snapshot);
    this.appliedIndex = snapshot.metadata.index;
    this.lastSnapshotIndex = snapshot.metadata.index;
  }

  start(): void {
    this.options.transport.onMessage((m) => {
      if (this.stopped) return;
      this.raw.step(m);
      this.schedule();
    });
    this.timer = setInterval(() => {
      this.raw.tick();
      this.schedule();
    }, this.options.tickMs);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const error = new CairnError(RaftErrorCodes.Stopped, `raft node ${this.options.id} stopped`);
    for (const w of this.writes.values()) w.reject(error);
    for (const r of this.reads.values()) r.reject(error);
    this.writes.clear();
    this.reads.clear();
    await this.options.transport.close();
  }

  status(): RaftStatus {
    return this.raw.status();
  }

  get applied(): number {
    return this.appliedIndex;
  }

  /** Resolves with the state machine's result once the entry commits and applies here. */
  propose(data: string): Promise<Result> {
    const result = this.raw.propose(data);
    if (!result.ok) {
      return Promise.reject(new CairnError(RaftErrorCodes.NotLeader, `proposal refused: ${result.reason}`, { lead: result.lead, reason: result.reason }));
    }
    const promise = new Promise<Result>((resolve, reject) => this.writes.set(result.index, { term: result.term, resolve, reject }));
    this.schedule();
    return promise;
  }

  /** Resolves once this node's state machine reflects every write committed before the call. */
  linearizableRead(): Promise<void> {
    const context = `${this.options.id}:${++this.nextReadId}`;
    const result = this.raw.readIndex(context);
    if (!result.ok) return Promise.reject(new CairnError(RaftErrorCodes.NotLeader, `read refused: ${result.reason}`, { lead: result.lead }));
    const promise = new Promise<void>((resolve, reject) => this.reads.set(context, { index: undefined, resolve, reject }));
    this.schedule();
    return promise;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  private process(): void {
    while (!this.stopped && this.raw.hasReady()) {
      const rd = this.raw.ready();
      // 1. persist: the storage fsyncs before returning when the Ready carries votes or entries.
      this.options.storage.save(rd);
      // 2. send
      if (rd.messages.length > 0) this.options.transport.send(rd.messages);
      // 3. apply
      if (rd.snapshot) {
        this.options.stateMachine.restore(rd.snapshot);
        this.appliedIndex = rd.snapshot.metadata.index;
        this.failWritesUpTo(this.appliedIndex);
      }
      for (const entry of rd.committedEntries) this.applyEntry(entry);
      for (const rs of rd.readStates) {
        const read = this.reads.get(rs.context);
        if (read) read.index = rs.index;
      }
      // 4. advance
      this.raw.advance();
      this.serveReads();
      this.maybeSnapshot();
    }
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.appliedIndex) return;
    const result = this.options.stateMachine.apply(entry);
    this.appliedIndex = entry.index;
    const waiter = this.writes.get(entry.index);
    if (!waiter) return;
    this.writes.delete(entry.index);
    if (waiter.term === entry.term) waiter.resolve(result);
    else waiter.reject(new CairnError(RaftErrorCodes.Superseded, `entry ${entry.index} was replaced by a later leader`));
  }

  private failWritesUpTo(index: number): void {
    for (const [i, w] of this.writes) {
      if (i > index) continue;
      this.writes.delete(i);
      w.reject(new CairnError(RaftErrorCodes.Superseded, `entry ${i} was covered by a snapshot; its outcome is unknown here`));
    }
  }

  private serveReads(): void {
    for (const [context, read] of this.reads) {
      if (read.index !== undefined && read.index <= this.appliedIndex) {
        this.reads.delete(context);
        read.resolve();
      }
    }
  }

  private maybeSnapshot(): void {
    const every = this.options.snapshotEveryEntries ?? DEFAULT_SNAPSHOT_EVERY_ENTRIES;
    if (this.appliedIndex - this.lastSnapshotIndex < every) return;
    this.options.storage.createSnapshot(this.appliedIndex, this.raw.confStateAt(this.appliedIndex), this.options.stateMachine.snapshotData());
    this.lastSnapshotIndex = this.appliedIndex;
  }
}
