import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { FileLogAdapter, NatsRaftTransportAdapter, RaftDriver, RaftErrorCodes } from '@cairn/consensus-runtime';
import { NatsConnectionManager } from '@cairn/messaging';
import { CairnError, ErrorCodes } from '@cairn/protocol';
import { ClusterCredentials, HealthRegistry, HeartbeatService, MetricsService } from '@cairn/service-kit';
import type { ConnectionOptions } from 'nats';
import { Gauge } from 'prom-client';
import type { LockCommand } from '../domain/lock.commands';
import type { LockEvent } from '../domain/lock.events';
import type { LockTableState } from '../domain/lock-table.state-machine';
import { encodeLockCommand, LockTableReplica } from './lock-table.replica';

export const RAFT_GROUP = 'locks';
export const RAFT_TICK_MS = 50;
/** 10 ticks of 50 ms: a dead leader is replaced within about 0.5-1 s. */
export const RAFT_ELECTION_TIMEOUT_TICKS = 10;
export const RAFT_HEARTBEAT_INTERVAL_TICKS = 2;
/** How often the leader checks whether a lease or wait has run out, and if so commits its clock. */
export const ADVANCE_TIME_INTERVAL_MS = 100;
/**
 * A proposal that neither commits nor is replaced within this long (a leader cut off from its
 * followers) is answered TIMEOUT: its outcome is unknown, and the client retries it.
 */
export const PROPOSAL_TIMEOUT_MS = 5_000;
/** Pause between attempts to open the Raft transport while NATS is away. */
export const RAFT_START_RETRY_MS = 1_000;
/** How long an operation waits for a leader to be known before answering RAFT_NOT_LEADER. */
export const LEADER_WAIT_MS = 2_000;
const LEADER_POLL_MS = 20;

export interface LockRaftOptions {
  readonly nodeId: string;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly natsUrl: string;
  /** Credentials and TLS for NATS, as the service's own connection has them. */
  readonly natsConnectOptions?: ConnectionOptions;
  readonly namespace: string;
  readonly snapshotEveryEntries: number;
  /** See LockManagerConfig.CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST. */
  readonly sendAppendsBeforePersist?: boolean;
}
export const LOCK_RAFT_OPTIONS = Symbol('LOCK_RAFT_OPTIONS');

export interface RaftView {
  readonly started: boolean;
  readonly role: string;
  readonly leader: string;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  /** First index still in the log: everything before it is only in the snapshot. */
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** The last log index this replica found on disk when it started. */
  readonly recoveredLastIndex: number;
}

/**
 * This replica of the region's lock group: the file log, the NATS transport and the Raft driver
 * around the lock table. It starts once NATS answers (HTTP never waits for it), and while it
 * leads it proposes time, so leases and waits expire by committed time on every replica.
 */
@Injectable()
export class LockRaftNode implements OnApplicationBootstrap, OnModuleDestroy {
  readonly replica = new LockTableReplica();
  private readonly logger = new Logger('LockRaftNode');
  private driver: RaftDriver<LockEvent[]> | undefined;
  private log: FileLogAdapter | undefined;
  private starting: Promise<void> | undefined;
  private clock: NodeJS.Timeout | undefined;
  private advancing = false;
  private recoveredLastIndex = 0;
  private readonly leadershipListeners = new Set<(leading: boolean) => void>();
  private stopping = false;
  private markStopping: () => void = () => undefined;
  /** Resolves on shutdown, so a start still waiting for NATS gives up instead of holding it. */
  private readonly stopSignal = new Promise<undefined>((resolve) => (this.markStopping = () => resolve(undefined)));

  constructor(
    @Inject(LOCK_RAFT_OPTIONS) readonly options: LockRaftOptions,
    private readonly nats: NatsConnectionManager,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    private readonly heartbeat: HeartbeatService,
    private readonly credentials: ClusterCredentials,
  ) {
    if (!options.peers.includes(options.nodeId)) {
      throw new Error(`CAIRN_RAFT_PEERS (${options.peers.join(',')}) must include this instance, ${options.nodeId}`);
    }
  }

  onApplicationBootstrap(): void {
    // Role and leader are information, not readiness: one replica alone must still answer /health.
    this.health.registerInfo('raft', () => ({ ...this.view(), node: this.options.nodeId, peers: this.options.peers }));
    this.heartbeat.addFigure('raftRole', () => this.view().role);
    const view = () => this.view();
    new Gauge({
      name: 'cairn_lock_manager_raft_term',
      help: 'Current Raft term of this replica',
      registers: [this.metrics.registry],
      collect() {
        this.set(view().term);
      },
    });
    new Gauge({
      name: 'cairn_lock_manager_raft_leader',
      help: '1 while this replica leads the lock group',
      registers: [this.metrics.registry],
      collect() {
        this.set(view().role === 'leader' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cairn_lock_manager_raft_applied_index',
      help: 'Last Raft log index applied to the lock table here',
      registers: [this.metrics.registry],
      collect() {
        this.set(view().applied);
      },
    });
    this.starting = this.start().catch((error) => {
      if (!this.stopping) this.logger.error(`raft node failed to start: ${error instanceof Error ? error.stack : String(error)}`);
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.markStopping();
    if (this.clock) clearInterval(this.clock);
    await this.starting;
    await this.driver?.stop();
    this.log?.close();
  }

  view(): RaftView {
    if (!this.driver || !this.log) return { started: false, role: 'follower', leader: '', term: 0, commit: 0, applied: 0, firstIndex: 0, lastIndex: 0, recoveredLastIndex: 0 };
    const s = this.driver.raw.basicStatus();
    return {
      started: true,
      role: s.role,
      leader: s.lead,
      term: s.term,
      commit: s.commit,
      applied: this.driver.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: s.lastIndex,
      recoveredLastIndex: this.recoveredLastIndex,
    };
  }

  isLeader(): boolean {
    return this.view().role === 'leader';
  }

  /** Calls `listener` with whether this replica leads now and whenever that changes; returns its removal. */
  onLeadershipChange(listener: (leading: boolean) => void): () => void {
    this.leadershipListeners.add(listener);
    listener(this.isLeader());
    return () => this.leadershipListeners.delete(listener);
  }

  /** The current leader's node id, waiting up to LEADER_WAIT_MS for one to be known. */
  async awaitLeader(): Promise<string> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    for (;;) {
      const { leader } = this.view();
      if (leader) return leader;
      if (Date.now() >= deadline || this.stopping) throw this.notLeader('no leader is known');
      await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
    }
  }

  /**
   * Resolves once this node no longer names `leader` as the leader (it lost it, or another was
   * elected): a request forwarded to `leader` then has no one left to answer it.
   */
  leaderGone(leader: string): { readonly gone: Promise<void>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const gone = new Promise<void>((resolve) => {
      const check = () => {
        if (cancelled) return;
        if (this.stopping || !this.driver || this.view().leader !== leader) return resolve();
        timer = setTimeout(check, LEADER_POLL_MS);
      };
      check();
    });
    return {
      gone,
      cancel: () => {
        cancelled = true;
        clearTimeout(timer);
      },
    };
  }

  notLeader(reason: string): CairnError {
    return new CairnError(RaftErrorCodes.NotLeader, `${this.options.nodeId} is not the leader: ${reason}`, { leader: this.view().leader || null });
  }

  /** Proposes a command stamped with this leader's clock; resolves with the events it produced. */
  async propose(command: LockCommand): Promise<LockEvent[]> {
    if (!this.driver) throw this.notLeader('the raft node has not started');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.driver.propose(encodeLockCommand(command)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CairnError(ErrorCodes.Timeout, `${command.type} did not commit within ${PROPOSAL_TIMEOUT_MS} ms; its outcome is unknown`)), PROPOSAL_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The lock table as of every write committed before the call (ReadIndex; works on followers). */
  async read(): Promise<LockTableState> {
    if (!this.driver) throw this.notLeader('the raft node has not started');
    await this.driver.linearizableRead();
    return this.replica.state;
  }

  private async start(): Promise<void> {
    await Promise.race([this.nats.connection(), this.stopSignal]);
    let transport: NatsRaftTransportAdapter | undefined;
    while (!transport) {
      if (this.stopping) return;
      try {
        transport = await NatsRaftTransportAdapter.connect({
          servers: this.options.natsUrl,
          namespace: this.options.namespace,
          group: RAFT_GROUP,
          node: this.options.nodeId,
          authenticator: this.credentials,
          connectOptions: this.options.natsConnectOptions,
          onRefused: (reason) => this.logger.warn(`dropped a Raft message: ${reason}`),
        });
      } catch (error) {
        this.logger.warn(`raft transport not connected yet: ${String(error)}`);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, RAFT_START_RETRY_MS)), this.stopSignal]);
      }
    }
    if (this.stopping) {
      await transport.close();
      return;
    }
    this.log = FileLogAdapter.open({ dir: this.options.dataDir, bootstrap: { voters: this.options.peers } });
    this.recoveredLastIndex = this.log.lastIndex();
    this.logger.log(`raft log recovered: ${JSON.stringify(this.log.recovery)}, last index ${this.recoveredLastIndex}`);
    this.driver = new RaftDriver<LockEvent[]>({
      id: this.options.nodeId,
      storage: this.log,
      transport,
      stateMachine: this.replica,
      tickMs: RAFT_TICK_MS,
      electionTimeoutTicks: RAFT_ELECTION_TIMEOUT_TICKS,
      heartbeatIntervalTicks: RAFT_HEARTBEAT_INTERVAL_TICKS,
      snapshotEveryEntries: this.options.snapshotEveryEntries,
      sendAppendsBeforePersist: this.options.sendAppendsBeforePersist ?? false,
      onLeadershipChange: ({ role }) => {
        for (const listener of this.leadershipListeners) listener(role === 'leader');
      },
    });
    this.driver.start();
    this.clock = setInterval(() => this.advanceTime(), ADVANCE_TIME_INTERVAL_MS);
  }

  private advanceTime(): void {
    const next = this.replica.nextDeadlineMs();
    if (this.advancing || next === undefined || next > Date.now() || !this.isLeader()) return;
    this.advancing = true;
    this.propose({ type: 'AdvanceTime', nowMs: Date.now() })
      .catch(() => undefined) // a lost leadership or a superseded tick: the next leader ticks
      .finally(() => (this.advancing = false));
  }
}
