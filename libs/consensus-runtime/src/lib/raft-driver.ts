import { randomInt } from 'node:crypto';
import {
  RaftLoop,
  SeededRandom,
  type NodeId,
  type ProposalOutcome,
  type ReadOutcome,
  type RaftDisk,
  type RaftStatus,
  type RaftStorage,
  type RawNode,
  type ReplicatedStateMachine,
} from '@cairn/consensus';
import { CairnError } from '@cairn/protocol';
import type { RaftTransport } from './raft-transport.port';

/** The log the driver reads and writes through: FileLogAdapter (fsync'd, group commit off the event loop), or MemoryDisk-backed fakes. */
export type DurableRaftStorage = RaftStorage & RaftDisk;

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
  /**
   * A leader sends its appends while its own fsync runs instead of after it (Raft thesis §10.2.1;
   * it counts its own copy toward a commit only once durable). Off by default: it pays where each
   * replica has a disk of its own and fsyncs take milliseconds, not on a shared CPU-bound host.
   */
  readonly sendAppendsBeforePersist?: boolean;
  /** Told, right after the input that caused it, when this node's role or known leader changes. */
  readonly onLeadershipChange?: (status: { readonly role: string; readonly lead: NodeId }) => void;
}

/**
 * Runs a Raft node for real: the shell around the pure `RaftLoop` (which handles every Ready in
 * order — persist (fsync) → send → apply → advance — and is what the simulator runs too; a
 * leader's appends wait for its fsync, see `sendAppendsBeforePersist`). Here a timer ticks it,
 * the transport feeds it, the loop runs on the next turn of the event loop after any input, and
 * proposals and reads become promises that settle with `CairnError`s.
 */
export class RaftDriver<Result = unknown> {
  private readonly loop: RaftLoop<Result>;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = false;
  private lastRole = '';
  private lastLead: NodeId = '';

  constructor(private readonly options: RaftDriverOptions<Result>) {
    this.loop = new RaftLoop({
      node: {
        id: options.id,
        storage: options.storage,
        random: new SeededRandom(randomInt(2 ** 31)),
        electionTimeoutTicks: options.electionTimeoutTicks,
        heartbeatIntervalTicks: options.heartbeatIntervalTicks,
      },
      disk: options.storage,
      sender: options.transport,
      stateMachine: options.stateMachine,
      snapshotEveryEntries: options.snapshotEveryEntries,
      sendAppendsBeforePersist: options.sendAppendsBeforePersist,
    });
  }

  get raw(): RawNode {
    return this.loop.raw;
  }

  start(): void {
    this.options.transport.onMessage((m) => {
      if (this.stopped) return;
      this.loop.step(m);
      this.schedule();
    });
    this.timer = setInterval(() => {
      this.loop.tick();
      this.schedule();
    }, this.options.tickMs);
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.loop.stop();
    await this.options.transport.close();
  }

  status(): RaftStatus {
    return this.loop.raw.status();
  }

  get applied(): number {
    return this.loop.applied;
  }

  /** Resolves with the state machine's result once the entry commits and applies here. */
  propose(data: string): Promise<Result> {
    // The loop never settles synchronously, so `settle` is set before it can be called.
    let settle: (outcome: ProposalOutcome<Result>) => void = () => undefined;
    const result = this.loop.propose(data, (outcome) => settle(outcome));
    if (!result.ok) {
      return Promise.reject(new CairnError(RaftErrorCodes.NotLeader, `proposal refused: ${result.reason}`, { lead: result.lead, reason: result.reason }));
    }
    const promise = new Promise<Result>((resolve, reject) => {
      settle = (outcome) => (outcome.status === 'applied' ? resolve(outcome.result) : reject(this.proposalError(outcome)));
    });
    this.schedule();
    return promise;
  }

  /** Resolves once this node's state machine reflects every write committed before the call. */
  linearizableRead(): Promise<void> {
    let settle: (outcome: ReadOutcome) => void = () => undefined;
    const result = this.loop.readIndex((outcome) => settle(outcome));
    if (!result.ok) return Promise.reject(new CairnError(RaftErrorCodes.NotLeader, `read refused: ${result.reason}`, { lead: result.lead }));
    const promise = new Promise<void>((resolve, reject) => {
      settle = (outcome) => (outcome.status === 'ready' ? resolve() : reject(this.stoppedError()));
    });
    this.schedule();
    return promise;
  }

  private proposalError(outcome: Exclude<ProposalOutcome<Result>, { status: 'applied' }>): CairnError {
    switch (outcome.status) {
      case 'superseded':
        return new CairnError(RaftErrorCodes.Superseded, `entry ${outcome.index} was replaced by a later leader`);
      case 'unknown':
        return new CairnError(RaftErrorCodes.Superseded, `entry ${outcome.index} was covered by a snapshot; its outcome is unknown here`);
      case 'stopped':
        return this.stoppedError();
    }
  }

  private stoppedError(): CairnError {
    return new CairnError(RaftErrorCodes.Stopped, `raft node ${this.options.id} stopped`);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped) return;
      this.loop.process();
      this.reportLeadership();
    });
  }

  private reportLeadership(): void {
    const listener = this.options.onLeadershipChange;
    if (!listener) return;
    const { role, lead } = this.loop.raw.basicStatus();
    if (role === this.lastRole && lead === this.lastLead) return;
    this.lastRole = role;
    this.lastLead = lead;
    listener({ role, lead });
  }
}
