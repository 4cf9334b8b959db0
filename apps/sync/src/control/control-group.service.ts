import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { FileLogAdapter, RaftDriver } from '@cairn/consensus-runtime';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import {
  CairnError,
  ErrorCodes,
  FederationOps,
  METADATA_SERVICE,
  MetadataErrorCodes,
  MetadataRpc,
  type BucketAuthority,
  type BucketRoute,
  type BucketHomeView,
  type BucketView,
  type ControlGroupView,
  type ControlProbeReply,
  type ControlProgressReply,
  type DrillClaim,
  type DrillClaimRequest,
  type ReplicaPosition,
  type ListBucketsReply,
  type SwitchoverReply,
} from '@cairn/protocol';
import { ClusterCredentials, HealthRegistry, MetricsService, SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import type { Subscription } from 'nats';
import { Gauge } from 'prom-client';
import { FederationRequester, serveFederationOpsWhenReady } from '../federation/federation-rpc';
import { homeLeaseMsOf, syncPeersOf, type SyncConfig } from '../sync.config';
import { ControlReplica, encodeControlCommand, type AppliedControl } from './control.replica';
import { ControlRaftTransport } from './control-raft.transport';
import { bucketsNeedingFailover, chooseNewHome, committedReportOf, isDown, reportersOf, type ControlCommand, type ControlResult } from './domain/control-state';
import { validControlCommand, validProbe, validProgressRequest } from './control-messages';
import { RegionContacts } from './domain/region-contact';
import { appliedThrough, inboundProgress, ownLastSequence } from './replication-progress';
import { replicaStalenessMs } from './domain/replica-staleness';
import { RegionFacts } from './region-facts';
import { routeBucket } from './domain/routing';

const TICK_MS = 100;
/** 10 ticks: a lost leader is replaced in about 1-2 s, well inside the failover window. */
const ELECTION_TIMEOUT_TICKS = 10;
const HEARTBEAT_INTERVAL_TICKS = 2;
const SNAPSHOT_EVERY_ENTRIES = 1_000;
const PROPOSAL_TIMEOUT_MS = 5_000;
const LEADER_WAIT_MS = 3_000;
const LEADER_LOOP_MS = 250;
const RECONCILE_MS = 5_000;
const PROGRESS_TIMEOUT_MS = 2_000;
/** A switchover gives the target this long to catch up before giving up (writes resume at the old home). */
const SWITCHOVER_CATCH_UP_MS = 30_000;
/**
 * A bucket left draining this long (its switchover's coordinator died or lost its link) is given
 * back to its home by the leader: longer than any live coordinator waits before cancelling itself.
 */
const ABANDONED_SWITCHOVER_MS = SWITCHOVER_CATCH_UP_MS + 15_000;
const SWITCHOVER_POLL_MS = 100;
/** A lease that never ends, in JSON (a region alone is its own majority). */
const UNBOUNDED_LEASE_MS = Number.MAX_SAFE_INTEGER;

/**
 * This region's voter of the control group (docs/failover.md): Raft between regions' syncs over
 * the federation links, holding each active-passive bucket's home and epoch. It checks the other
 * regions, grants them leases, reports the ones it finds down; while it leads it registers
 * active-passive buckets and promotes a new home for every bucket whose home a majority finds down;
 * it tells metadata whether this region may acknowledge a bucket's writes (home, epoch, lease).
 */
@Injectable()
export class ControlGroupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('control-group');
  readonly region: string;
  readonly voters: readonly string[];
  readonly replica: ControlReplica;
  private readonly contacts: RegionContacts;
  private readonly federation: FederationRequester;
  private readonly dataDir: string;
  private readonly checkIntervalMs: number;
  private readonly startedMs = performance.now();
  private driver: RaftDriver<AppliedControl> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly subscriptions: Subscription[] = [];
  private stopping = false;
  private reporting: string | null = null;
  private readonly failingOver = new Set<string>();
  /** Bucket@epoch → when this region, leading, first saw it draining. */
  private readonly drainingSeen = new Map<string, number>();
  private readonly registering = new Set<string>();
  private probing = false;
  private leaderBusy = false;
  private lastReconcileMs = 0;
  readonly counters = { failovers: 0, switchovers: 0 };
  private readonly facts: RegionFacts;
  /** What each peer said about itself in its last answer to our check (routing). */
  private readonly peerFacts = new Map<string, { s3Endpoint: string | null; freeBytes: number | null }>();

  constructor(
    @Inject(SERVICE_CONFIG) config: SyncConfig,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    private readonly nats: NatsConnectionManager,
    private readonly rpc: RpcClient,
    private readonly credentials: ClusterCredentials,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
  ) {
    this.region = identity.region;
    this.voters = [identity.region, ...syncPeersOf(config, identity.region)].sort();
    this.replica = new ControlReplica(this.voters);
    this.checkIntervalMs = config.CAIRN_FAILOVER_CHECK_MS;
    this.contacts = new RegionContacts(identity.region, this.voters, {
      checkIntervalMs: config.CAIRN_FAILOVER_CHECK_MS,
      failedChecks: config.CAIRN_FAILOVER_CHECKS,
      leaseMs: homeLeaseMsOf(config),
    });
    this.dataDir = config.CAIRN_CONTROL_DIR || path.resolve('.cairn', 'control', identity.region);
    this.federation = new FederationRequester(nats, identity.namespace, credentials, identity.region);
    this.facts = new RegionFacts(nats, identity.namespace, identity.region, credentials);
  }

  /** Whether there is a group at all: a region on its own is its buckets' only possible home. */
  get federated(): boolean {
    return this.voters.length > 1;
  }

  onApplicationBootstrap(): void {
    this.health.registerInfo('control', () => this.summary());
    this.registerMetrics();
    void this.retry('region facts', () => this.facts.start());
    if (!this.federated) return;
    void this.start().catch((error) => {
      if (!this.stopping) this.logger.error(`control group failed to start: ${error instanceof Error ? error.stack : String(error)}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.facts.stop();
    for (const t of this.timers) clearInterval(t);
    for (const s of this.subscriptions) s.unsubscribe();
    await this.driver?.stop();
    this.driver = undefined;
  }

  // ---- what metadata asks

  /** Whether this region may acknowledge writes to `bucket` now, and if not, which region does. */
  authority(bucket: string, configuredHome: string): BucketAuthority {
    if (!this.federated) {
      return { bucket, home: configuredHome, epoch: 0, state: 'serving', leaseRemainingMs: configuredHome === this.region ? UNBOUNDED_LEASE_MS : null };
    }
    const registered = this.replica.state.buckets[bucket];
    if (!registered) this.register(bucket, configuredHome);
    const home = registered?.home ?? configuredHome;
    return {
      bucket,
      home,
      epoch: registered?.epoch ?? 0,
      state: registered?.state ?? 'serving',
      leaseRemainingMs: home === this.region ? this.leaseRemainingMs() : null,
    };
  }

  /** Whether this region's own checks find `region` down now (what a forwarded write to it waits on). */
  unreachableHere(region: string): boolean {
    return this.federated && region !== this.region && this.contacts.isDownHere(region, performance.now(), this.startedMs);
  }

  leaseRemainingMs(): number {
    if (!this.federated) return UNBOUNDED_LEASE_MS;
    const until = this.contacts.leaseUntilMs(committedReportOf(this.replica.state, this.region));
    if (until === Number.POSITIVE_INFINITY) return UNBOUNDED_LEASE_MS;
    return Math.max(0, Math.floor(until - performance.now()));
  }

  /** Where a client should send the bucket's reads and writes, as this region sees the federation now. */
  async route(bucket: string): Promise<BucketRoute> {
    const { replication } = await this.rpc.request<{ replication: { mode: BucketRoute['mode']; homeRegion?: string } | null }>(METADATA_SERVICE, MetadataRpc.bucketReplication, { bucket });
    if (!replication) throw new CairnError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist in ${this.region}`, { bucket });
    const registered = this.replica.state.buckets[bucket];
    const now = performance.now();
    const checks = new Map(this.contacts.view(now, this.startedMs).map((c) => [c.region, c]));
    const state = this.replica.state;
    return routeBucket({
      bucket,
      self: this.region,
      mode: replication.mode,
      home: registered?.home ?? replication.homeRegion ?? null,
      epoch: registered?.epoch ?? null,
      regions: this.voters.map((region) => {
        if (region === this.region) return { region, up: true, rttMs: 0, freeBytes: this.facts.freeBytes(), s3Endpoint: this.facts.s3Endpoint() };
        const check = checks.get(region);
        const facts = this.peerFacts.get(region);
        return { region, up: (check?.up ?? false) && !isDown(state, region), rttMs: check?.rttMs ?? null, freeBytes: facts?.freeBytes ?? null, s3Endpoint: facts?.s3Endpoint ?? null };
      }),
    });
  }

  /** How current this region's copy of `source`'s changes is: what a read of a bucket whose home is `source` is judged by. */
  async replicaPosition(source: string): Promise<ReplicaPosition> {
    if (source === this.region) return { source, appliedThrough: await ownLastSequence(this.nats, this.identity.namespace), pending: 0, stalenessMs: 0 };
    const progress = await inboundProgress(this.nats, this.identity.namespace, source);
    const nowMs = performance.now();
    const sinceContactMs = this.contacts.view(nowMs, this.startedMs).find((c) => c.region === source)?.sinceContactMs ?? null;
    return {
      source,
      appliedThrough: progress.appliedThrough,
      pending: progress.pending,
      stalenessMs: replicaStalenessMs({ pending: progress.pending, oldestPendingAtMs: progress.oldestPendingAtMs, sinceContactMs, nowMs: Date.now() }),
    };
  }

  // ---- the operator's view and actions

  view(): ControlGroupView {
    const status = this.driver?.status();
    const now = performance.now();
    const state = this.replica.state;
    return {
      region: this.region,
      voters: this.voters,
      role: status?.role ?? (this.federated ? 'starting' : 'alone'),
      leader: status?.lead ?? '',
      term: status?.term ?? 0,
      appliedIndex: this.replica.applied,
      regions: this.voters.map((region) => ({ region, reportedDownBy: reportersOf(state, region), down: isDown(state, region) })),
      buckets: Object.values(state.buckets).sort((a, b) => a.bucket.localeCompare(b.bucket)),
      checks: this.contacts.view(now, this.startedMs),
      leaseRemainingMs: this.leaseRemainingMs(),
      drill: state.drill ?? null,
    };
  }

  /** A drill may run only while it holds the federation's one drill claim (a majority of regions grants it). */
  async claimDrill(request: DrillClaimRequest): Promise<DrillClaim> {
    if (!this.federated) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'a region on its own has no other region to fail over to: a drill needs a federation');
    if (!this.voters.includes(request.region)) throw new CairnError(MetadataErrorCodes.InvalidArgument, `${request.region} is not a region of the federation (${this.voters.join(', ')})`);
    const at = Date.now();
    const claim = { id: request.id, region: request.region, by: request.by, until: new Date(at + request.ttlSeconds * 1000).toISOString() };
    const applied = await this.propose({ type: 'ClaimDrill', ...claim, at: new Date(at).toISOString() });
    if (!applied.result.ok) throw new CairnError(ErrorCodes.ConcurrencyConflict, `another drill is running: ${applied.result.reason}`);
    return claim;
  }

  async releaseDrill(id: string): Promise<void> {
    await this.propose({ type: 'ReleaseDrill', id });
  }

  /**
   * A planned move of a bucket's home, without loss: the home stops acknowledging (draining), the
   * target applies every change the home had, then the group names the target home. Writes pause
   * for as long as the target takes to catch up; if it cannot within 30 s the switchover is
   * cancelled and the old home serves again.
   */
  async switchover(bucket: string, to: string): Promise<SwitchoverReply> {
    if (!this.federated) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'a region on its own has no other region to switch to');
    if (!this.voters.includes(to)) throw new CairnError(MetadataErrorCodes.InvalidArgument, `${to} is not a region of the federation (${this.voters.join(', ')})`);
    const current = await this.registeredOrConfigured(bucket);
    if (current.home === to && current.state === 'serving') return { bucket, from: to, to, epoch: current.epoch, pausedMs: 0 };
    let begin: AppliedControl;
    try {
      begin = await this.propose({ type: 'BeginSwitchover', bucket, to, epoch: current.epoch, at: new Date().toISOString() });
    } catch (error) {
      // The drain may have committed all the same: give the bucket back rather than leave it refusing writes.
      await this.propose({ type: 'CancelSwitchover', bucket, epoch: current.epoch }).catch(() => undefined);
      throw error;
    }
    if (!begin.result.ok) throw new CairnError(ErrorCodes.ConcurrencyConflict, `switchover refused: ${begin.result.reason}`);
    const pausedFrom = performance.now();
    const from = current.home;
    try {
      // The old home has stopped acknowledging once it has applied the drain; its stream then ends where the target must reach.
      const target = await this.waitFor(async () => {
        const home = await this.progressOf(from, from);
        return home.appliedIndex >= begin.index ? home.ownLastSequence : null;
      }, `${from} to stop acknowledging writes to ${bucket}`);
      await this.waitFor(async () => ((await this.progressOf(to, from)).appliedThrough >= target ? true : null), `${to} to apply ${from}'s changes through ${target}`);
    } catch (error) {
      await this.propose({ type: 'CancelSwitchover', bucket, epoch: current.epoch }).catch(() => undefined);
      throw error;
    }
    const done = await this.propose({ type: 'CompleteSwitchover', bucket, to, epoch: current.epoch, at: new Date().toISOString() });
    if (!done.result.ok) throw new CairnError(ErrorCodes.ConcurrencyConflict, `switchover did not complete: ${done.result.reason}`);
    this.counters.switchovers += 1;
    this.logger.log(`switchover of ${bucket}: ${from} → ${to}, writes paused ${Math.round(performance.now() - pausedFrom)} ms`);
    return { bucket, from, to, epoch: current.epoch + 1, pausedMs: Math.round(performance.now() - pausedFrom) };
  }

  // ---- the group

  private async start(): Promise<void> {
    await this.nats.connection();
    const transport = await this.retry('control transport', () =>
      ControlRaftTransport.open(this.nats, this.identity.namespace, this.region, this.voters, this.credentials, (reason) => this.logger.warn(`dropped a control message: ${reason}`)),
    );
    if (!transport || this.stopping) return;
    const log = FileLogAdapter.open({ dir: this.dataDir, bootstrap: { voters: [...this.voters] } });
    this.logger.log(`control group ${this.voters.join(', ')}: log in ${this.dataDir}, last index ${log.lastIndex()}`);
    this.driver = new RaftDriver<AppliedControl>({
      id: this.region,
      storage: log,
      transport,
      stateMachine: this.replica,
      tickMs: TICK_MS,
      electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
      heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
      snapshotEveryEntries: SNAPSHOT_EVERY_ENTRIES,
    });
    this.replica.onApplied((command, result) => this.logApplied(command, result));
    this.driver.start();
    this.subscriptions.push(
      ...(await serveFederationOpsWhenReady(
        this.nats,
        this.identity.namespace,
        this.region,
        this.credentials,
        [
          { op: FederationOps.controlProbe, handler: async (payload) => this.answerProbe(validProbe(payload, this.voters).from) },
          { op: FederationOps.controlPropose, handler: async (payload) => this.proposeHere(validControlCommand(payload, this.voters)) },
          { op: FederationOps.controlProgress, handler: async (payload) => this.progressHere(validProgressRequest(payload, this.voters).source) },
        ],
        this.logger,
        () => this.stopping,
      )),
    );
    this.timers.push(setInterval(() => void this.checkPeers(), this.checkIntervalMs));
    this.timers.push(setInterval(() => void this.lead(), LEADER_LOOP_MS));
  }

  private isLeader(): boolean {
    return this.driver?.status().role === 'leader';
  }

  /** Commits a command through the leader, wherever it is; resolves with its result once applied there. */
  async propose(command: ControlCommand): Promise<AppliedControl> {
    const deadline = performance.now() + LEADER_WAIT_MS;
    for (;;) {
      if (!this.driver) throw new CairnError(ErrorCodes.NoHandler, 'the control group has not started here');
      const lead = this.driver.status().lead;
      if (lead === this.region) return this.proposeHere(command);
      if (lead) {
        const applied = await this.federation.request<AppliedControl>(lead, FederationOps.controlPropose, command, PROPOSAL_TIMEOUT_MS);
        // Wait until this region has applied it too, so what it answers next reflects it.
        await this.waitApplied(applied.index);
        return applied;
      }
      if (performance.now() > deadline) throw new CairnError(ErrorCodes.NoHandler, 'the control group has no leader (no majority of regions reachable)');
      await sleep(50);
    }
  }

  private async proposeHere(command: ControlCommand): Promise<AppliedControl> {
    if (!this.driver || !this.isLeader()) throw new CairnError(ErrorCodes.NoHandler, `${this.region} does not lead the control group`);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.driver.propose(encodeControlCommand(command)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CairnError(ErrorCodes.Timeout, `${command.type} did not commit within ${PROPOSAL_TIMEOUT_MS} ms`)), PROPOSAL_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async waitApplied(index: number): Promise<void> {
    const deadline = performance.now() + PROPOSAL_TIMEOUT_MS;
    while (this.replica.applied < index && performance.now() < deadline) await sleep(20);
  }

  private answerProbe(from: string): ControlProbeReply {
    const now = performance.now();
    this.contacts.probedBy(from, now);
    return {
      region: this.region,
      granted: this.contacts.grants(from, committedReportOf(this.replica.state, this.region), now, this.startedMs),
      appliedIndex: this.replica.applied,
      s3Endpoint: this.facts.s3Endpoint(),
      freeBytes: this.facts.freeBytes(),
    };
  }

  private async progressHere(source: string): Promise<ControlProgressReply> {
    const lastHere = ownLastSequence(this.nats, this.identity.namespace);
    // This region has applied all of its own stream.
    const [through, last] = await Promise.all([source === this.region ? lastHere : appliedThrough(this.nats, this.identity.namespace, source), lastHere]);
    return { region: this.region, source, appliedThrough: through, appliedIndex: this.replica.applied, ownLastSequence: last };
  }

  private progressOf(region: string, source: string): Promise<ControlProgressReply> {
    if (region === this.region) return this.progressHere(source);
    return this.federation.request<ControlProgressReply>(region, FederationOps.controlProgress, { source }, PROGRESS_TIMEOUT_MS);
  }

  /** One round of checks of every other region, then this region's report if its view changed. */
  private async checkPeers(): Promise<void> {
    if (this.probing || this.stopping) return;
    this.probing = true;
    try {
      const timeoutMs = Math.max(50, Math.floor(this.checkIntervalMs * 0.9));
      await Promise.all(
        this.contacts.peerNames().map(async (peer) => {
          const sentMs = performance.now();
          try {
            const reply = await this.federation.request<ControlProbeReply>(peer, FederationOps.controlProbe, { from: this.region }, timeoutMs);
            this.contacts.answered(peer, sentMs, performance.now(), reply, this.replica.applied);
            this.peerFacts.set(peer, { s3Endpoint: typeof reply.s3Endpoint === 'string' ? reply.s3Endpoint : null, freeBytes: typeof reply.freeBytes === 'number' ? reply.freeBytes : null });
          } catch {
            this.contacts.failed(peer);
          }
        }),
      );
      // Not awaited: a report waiting on a leader that just went away must not stop the checks.
      void this.report();
    } finally {
      this.probing = false;
    }
  }

  private async report(): Promise<void> {
    const down = this.contacts.downHere(performance.now(), this.startedMs);
    const key = down.join(',');
    if (this.reporting === key) return;
    // Sequence numbers come from the wall clock, so they keep growing across restarts.
    const proposal = this.contacts.reportDue(down, committedReportOf(this.replica.state, this.region), Date.now());
    if (!proposal) return;
    this.reporting = key;
    try {
      await this.propose({ type: 'ReportRegions', observer: this.region, down: proposal.down, seq: proposal.seq });
    } catch {
      // No majority reachable from here: the report waits for the next round.
    } finally {
      this.reporting = null;
    }
  }

  /** While leading: promote a new home for every bucket whose home is down by a majority; keep the registry in step with the buckets. */
  private async lead(): Promise<void> {
    if (!this.isLeader() || this.leaderBusy || this.stopping) return;
    this.leaderBusy = true;
    try {
      const state = this.replica.state;
      await Promise.all(bucketsNeedingFailover(state).filter((b) => !this.failingOver.has(b.bucket)).map((b) => this.failOver(b)));
      await this.cancelAbandonedSwitchovers();
      if (performance.now() - this.lastReconcileMs > RECONCILE_MS) {
        this.lastReconcileMs = performance.now();
        await this.reconcile().catch((error) => this.logger.warn(`cannot reconcile the control group with the buckets: ${String(error)}`));
      }
    } finally {
      this.leaderBusy = false;
    }
  }

  /** A switchover whose coordinator went away would leave its bucket refusing writes for good: the leader cancels it. */
  private async cancelAbandonedSwitchovers(): Promise<void> {
    const now = performance.now();
    const draining = Object.values(this.replica.state.buckets).filter((b) => b.state === 'draining');
    const current = new Set(draining.map((b) => `${b.bucket}@${b.epoch}`));
    for (const key of this.drainingSeen.keys()) if (!current.has(key)) this.drainingSeen.delete(key);
    for (const b of draining) {
      const key = `${b.bucket}@${b.epoch}`;
      const seen = this.drainingSeen.get(key) ?? now;
      this.drainingSeen.set(key, seen);
      if (now - seen < ABANDONED_SWITCHOVER_MS) continue;
      const cancelled = await this.propose({ type: 'CancelSwitchover', bucket: b.bucket, epoch: b.epoch }).catch(() => null);
      if (cancelled?.result.ok) this.logger.warn(`switchover of ${b.bucket} to ${b.switchingTo} was abandoned: ${b.home} serves it again`);
    }
  }

  private async failOver(bucket: BucketHomeView): Promise<void> {
    this.failingOver.add(bucket.bucket);
    try {
      const state = this.replica.state;
      const candidates = this.voters.filter((r) => r !== bucket.home && !isDown(state, r));
      const progress = (await Promise.all(candidates.map((r) => this.progressOf(r, bucket.home).catch(() => null)))).filter((p): p is ControlProgressReply => p !== null);
      const to = chooseNewHome(progress);
      if (!to) return;
      const applied = await this.propose({ type: 'PromoteHome', bucket: bucket.bucket, from: bucket.home, to, epoch: bucket.epoch, at: new Date().toISOString() });
      if (applied.result.ok) {
        this.counters.failovers += 1;
        this.logger.warn(
          `failover of ${bucket.bucket}: ${bucket.home} is down by a majority; ${to} is home at epoch ${bucket.epoch + 1} (applied through ${progress.map((p) => `${p.region}=${p.appliedThrough}`).join(', ')})`,
        );
      }
    } catch (error) {
      this.logger.warn(`failover of ${bucket.bucket} did not happen yet: ${String(error)}`);
    } finally {
      this.failingOver.delete(bucket.bucket);
    }
  }

  /** The leader registers active-passive buckets it knows of and forgets those that stopped being (as its own metadata sees them). */
  private async reconcile(): Promise<void> {
    const { buckets } = await this.rpc.request<ListBucketsReply>(METADATA_SERVICE, MetadataRpc.listBuckets, {});
    const here = new Map((buckets as readonly BucketView[]).map((b) => [b.name, b]));
    for (const b of here.values()) {
      if (b.replication.mode === 'active-passive' && b.replication.homeRegion && !this.replica.state.buckets[b.name]) this.register(b.name, b.replication.homeRegion);
    }
    for (const name of Object.keys(this.replica.state.buckets)) {
      const b = here.get(name);
      if (b && b.replication.mode !== 'active-passive') await this.propose({ type: 'UnregisterBucket', bucket: name });
    }
  }

  private register(bucket: string, home: string): void {
    if (this.registering.has(bucket) || !this.driver) return;
    this.registering.add(bucket);
    void this.propose({ type: 'RegisterBucket', bucket, home, at: new Date().toISOString() })
      .catch(() => undefined)
      .finally(() => this.registering.delete(bucket));
  }

  private async registeredOrConfigured(bucket: string): Promise<BucketHomeView> {
    const registered = this.replica.state.buckets[bucket];
    if (registered) return registered;
    const { replication } = await this.rpc.request<{ replication: { mode: string; homeRegion?: string } | null }>(METADATA_SERVICE, MetadataRpc.bucketReplication, { bucket });
    if (!replication) throw new CairnError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist here`, { bucket });
    if (replication.mode !== 'active-passive' || !replication.homeRegion) throw new CairnError(MetadataErrorCodes.InvalidArgument, `bucket ${bucket} is not active-passive: it has no home to move`);
    const applied = await this.propose({ type: 'RegisterBucket', bucket, home: replication.homeRegion, at: new Date().toISOString() });
    if (!applied.result.ok || !applied.result.bucket) throw new CairnError(ErrorCodes.ConcurrencyConflict, `bucket ${bucket} could not be registered: ${applied.result.ok ? 'no view' : applied.result.reason}`);
    return applied.result.bucket;
  }

  private async waitFor<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
    const deadline = performance.now() + SWITCHOVER_CATCH_UP_MS;
    for (;;) {
      const value = await probe().catch(() => null);
      if (value !== null) return value;
      if (performance.now() > deadline) throw new CairnError(ErrorCodes.Timeout, `gave up waiting for ${what}`);
      await sleep(SWITCHOVER_POLL_MS);
    }
  }

  private logApplied(command: ControlCommand, result: ControlResult): void {
    if (command.type === 'ReportRegions') {
      if (result.ok) this.logger.log(`${command.observer} reports ${command.down.length ? command.down.join(', ') : 'no region'} down`);
      return;
    }
    if (result.ok && result.bucket) this.logger.log(`${command.type}: ${result.bucket.bucket} home ${result.bucket.home} epoch ${result.bucket.epoch} (${result.bucket.state})`);
  }

  private summary(): Record<string, unknown> {
    const v = this.view();
    return { role: v.role, leader: v.leader, voters: v.voters, leaseRemainingMs: v.leaseRemainingMs, down: v.regions.filter((r) => r.down).map((r) => r.region), buckets: v.buckets.length };
  }

  private registerMetrics(): void {
    const registers = [this.metrics.registry];
    const leading = () => this.isLeader();
    const lease = () => this.leaseRemainingMs();
    const state = () => this.replica.state;
    const { voters, counters } = this;
    new Gauge({
      name: 'cairn_control_leader',
      help: '1 while this region leads the control group',
      registers,
      collect() {
        this.set(leading() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cairn_control_lease_seconds',
      help: 'How long this region may still acknowledge writes as a bucket home (its lease from a majority of regions)',
      registers,
      collect() {
        this.set(Math.min(lease(), 1e9) / 1000);
      },
    });
    new Gauge({
      name: 'cairn_control_region_down',
      help: '1 while the control group finds the region down (reported by a majority)',
      labelNames: ['region'],
      registers,
      collect() {
        this.reset();
        for (const r of voters) this.set({ region: r }, isDown(state(), r) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'cairn_control_failovers',
      help: 'Failovers this region proposed as the control-group leader, since start',
      registers,
      collect() {
        this.set(counters.failovers);
      },
    });
  }

  private async retry<T>(what: string, attempt: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      if (this.stopping) return undefined;
      try {
        return await attempt();
      } catch (error) {
        this.logger.warn(`${what} not ready yet: ${String(error)}`);
        await sleep(1_000);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
