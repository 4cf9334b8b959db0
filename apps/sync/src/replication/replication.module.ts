import { Controller, Get, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ChunkClient, JetStreamNodeHealthFeed, JetStreamUnderReplicationRecorder, NodeHealthView, regionReplication, StorageRingProvider } from '@cairn/chunk-client';
import { JetStreamEventStore, NatsConnectionManager, RpcClient, StreamTail } from '@cairn/messaging';
import {
  ChunkHealthSchemaVersions,
  FederationOps,
  METADATA_SERVICE,
  syncPattern,
  SyncRpc,
  MetadataRpc,
  subjectsFor,
  type BucketView,
  type ListBucketsReply,
  type ListNodesReply,
  type ReplicationConfig,
} from '@cairn/protocol';
import { Access, ClusterCredentials, EventClock, HealthRegistry, internalTlsTrust, MetricsService, SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, type ServiceIdentity } from '@cairn/service-kit';
import { Gauge } from 'prom-client';
import type { Subscription } from 'nats';
import { FederationRequester, serveFederationOpsWhenReady } from '../federation/federation-rpc';
import { syncPeersOf, type SyncConfig } from '../sync.config';
import { BackfillCoordinator } from './backfill';
import { ChunkRangeServer, FederationChunkPuller } from './chunk-transfer';
import { BucketModes, PeerChangeApplier, metaEventOf } from './peer-changes';
import { InboundLinkWorker } from './inbound-link.worker';
import { PeerReplicator, type ReplicatorLog } from './peer-replicator';
import { ReplicationLag } from './replication-lag';
import { WriteForwarding } from './write-forwarding';
import { ControlGroupService } from '../control/control-group.service';
import { ControlModule } from '../control/control.module';

const LAG_REFRESH_MS = 2_000;

/**
 * Replication between regions (docs/replication.md): each peer's META sourced into this region by
 * JetStream, its changes of replicated buckets applied here in order and once, their chunks
 * pulled over the federation link first; this region's chunks served to the peers; back-fill of
 * buckets that became replicated; lag measured.
 */
@Injectable()
export class ReplicationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('replication');
  readonly peers: readonly string[];
  readonly chunkClient: ChunkClient;
  readonly puller: FederationChunkPuller;
  readonly replicators: PeerReplicator[];
  /** One per peer, beside its replicator: the link's true state, and redials of a source left silent. */
  readonly links: InboundLinkWorker[];
  readonly backfills: BackfillCoordinator;
  readonly lag: ReplicationLag;
  readonly forwarding: WriteForwarding;
  private readonly buckets: BucketModes;
  private readonly shutdown = new AbortController();
  private readonly ring: StorageRingProvider;
  private readonly nodeHealth: JetStreamNodeHealthFeed;
  private readonly subscriptions: Subscription[] = [];
  private bucketTail: StreamTail | null = null;
  private lagTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(SERVICE_CONFIG) config: SyncConfig,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    private readonly nats: NatsConnectionManager,
    private readonly rpc: RpcClient,
    private readonly credentials: ClusterCredentials,
    events: JetStreamEventStore,
    clock: EventClock,
    private readonly health: HealthRegistry,
    metrics: MetricsService,
    private readonly workers: WorkerRegistry,
  ) {
    this.peers = syncPeersOf(config, identity.region);
    this.ring = new StorageRingProvider(
      () => rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}),
      () => rpc.request<{ epoch: number }>(METADATA_SERVICE, MetadataRpc.ringEpoch, {}),
    );
    const view = new NodeHealthView();
    this.nodeHealth = new JetStreamNodeHealthFeed(nats, view, {
      namespace: identity.namespace,
      region: identity.region,
      onError: (error) => this.logger.warn(`cannot follow storage node health: ${String(error)}`),
    });
    this.chunkClient = new ChunkClient({
      ring: () => this.ring.ring(),
      addressOf: (nodeId) => this.ring.addressOf(nodeId),
      signer: credentials.httpInterceptor(),
      tls: internalTlsTrust(config),
      underReplication: new JetStreamUnderReplicationRecorder(events, identity.namespace, (event, hash) => clock.envelope(event, hash, ChunkHealthSchemaVersions.ChunkUnderReplicated)),
      health: view,
      // Chunks pulled from a peer region are written as STANDARD's, at this region's own factor.
      strategy: regionReplication(config.CAIRN_REPLICATION_FACTOR).standard,
      // As the gateway's reads: a chunk is found wherever a recent ring put it, and a read that
      // misses everywhere asks for the ring epoch at once (served to peers by chunk.range).
      fallbackReadNodes: (hash) => this.ring.fallbackReadNodes(hash, config.CAIRN_REPLICATION_FACTOR),
      ringMoved: () => this.ring.ringMoved(),
    });
    const federation = new FederationRequester(nats, identity.namespace, credentials, identity.region);
    this.puller = new FederationChunkPuller(this.chunkClient, federation, () => this.ring.ready());
    this.forwarding = new WriteForwarding(identity.region, rpc, federation, this.puller);
    const buckets = (this.buckets = new BucketModes(rpc));
    const describe = (details: Record<string, unknown>) =>
      Object.entries(details)
        .map(([k, v]) => `${k}=${v instanceof Error ? v.message : typeof v === 'object' && v !== null ? String((v as Error).message ?? JSON.stringify(v)) : String(v)}`)
        .join(' ');
    const log: ReplicatorLog = {
      warn: (details, message) => this.logger.warn(`${message} (${describe(details)})`),
      error: (details, message) => this.logger.error(`${message} (${describe(details)})`),
    };
    const applier: PeerChangeApplier = new PeerChangeApplier(nats, identity.namespace, rpc, buckets, this.puller, (bucket) => this.backfills.ensure(bucket));
    this.backfills = new BackfillCoordinator(nats, identity.namespace, this.peers, () => applier, log);
    this.replicators = this.peers.map(
      (peer) => new PeerReplicator(peer, nats, identity.namespace, applier, { batch: config.CAIRN_SYNC_BATCH, concurrency: config.CAIRN_SYNC_APPLY_CONCURRENCY }, log),
    );
    const linkLog = new Logger('replication-link');
    this.links = this.peers.map((peer) => new InboundLinkWorker(peer, nats, identity.namespace, { log: (m) => linkLog.log(m), warn: (m) => linkLog.warn(m) }));
    this.lag = new ReplicationLag(
      nats,
      identity.namespace,
      identity.region,
      this.replicators.map((replicator, i) => ({ replicator, link: this.links[i] })),
    );
    this.registerMetrics(metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.ring.start((error) => this.logger.warn(`ring refresh failed: ${String(error)}`));
    this.nodeHealth.start();
    // In the background: a sync whose NATS is not reachable yet still boots (and /health says so).
    const chunkServer = new ChunkRangeServer(this.chunkClient);
    void serveFederationOpsWhenReady(
      this.nats,
      this.identity.namespace,
      this.identity.region,
      this.credentials,
      [
        {
          op: FederationOps.chunkRange,
          handler: async (payload) => {
            await this.ring.ready();
            return chunkServer.serve(payload);
          },
        },
        {
          op: FederationOps.forwardWrite,
          handler: async (payload) => {
            await this.ring.ready();
            return this.forwarding.commitAtHome(payload, this.shutdown.signal);
          },
        },
      ],
      this.logger,
      () => this.shutdown.signal.aborted,
    ).then((subscriptions) => this.subscriptions.push(...subscriptions));
    this.health.registerInfo('replication', () => ({ peers: this.peers, lag: this.lag.views(), backfills: this.backfills.views() }));
    if (this.peers.length === 0) return;
    for (const r of this.replicators) r.start();
    for (const link of this.links) {
      this.workers.register(link);
      link.start();
    }
    // A bucket that becomes replicated (here, or by a peer's change applied here) is back-filled.
    const subjects = subjectsFor(this.identity.namespace);
    this.bucketTail = new StreamTail(this.nats, {
      stream: subjects.streamName('META'),
      subject: subjects.bucketWildcard(),
      withData: true,
      onMessage: (m) => {
        const event = m.data ? metaEventOf(m.data, this.identity.region, m.sequence) : null;
        const replication = (event?.data as { replication?: ReplicationConfig; bucket?: string } | undefined)?.replication;
        const bucket = (event?.data as { bucket?: string } | undefined)?.bucket;
        if (bucket) this.buckets.forget(bucket);
        if (bucket && replication && replication.mode !== 'local') this.backfills.ensure(bucket);
      },
      onError: (error) => this.logger.warn(`cannot follow bucket changes: ${String(error)}`),
    });
    this.bucketTail.start();
    void this.backfillReplicatedBuckets();
    this.lagTimer = setInterval(() => void this.lag.refresh().catch(() => undefined), LAG_REFRESH_MS);
    this.lagTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    if (this.lagTimer) clearInterval(this.lagTimer);
    for (const s of this.subscriptions) s.unsubscribe();
    await this.bucketTail?.stop();
    await Promise.all(this.links.map((link) => link.stop()));
    await Promise.all(this.replicators.map((r) => r.stop()));
    await this.backfills.stop();
    this.ring.stop();
    await this.nodeHealth.stop();
    await this.chunkClient.close();
  }

  /** At start: every bucket replicated here gets any back-fill it has not finished. */
  private async backfillReplicatedBuckets(): Promise<void> {
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        const { buckets } = await this.rpc.request<ListBucketsReply>(METADATA_SERVICE, MetadataRpc.listBuckets, {});
        for (const b of buckets as readonly BucketView[]) if (b.replication.mode !== 'local') this.backfills.ensure(b.name);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private registerMetrics(metrics: MetricsService): void {
    const registers = [metrics.registry];
    const labelNames = ['source', 'target'] as const;
    const perPeer = (name: string, help: string, value: (r: PeerReplicator) => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect: function (this: Gauge<'source' | 'target'>) {
          this.reset();
          for (const r of replicators) this.set({ source: r.peer, target: region }, value(r));
        },
      });
    const replicators = this.replicators;
    const region = this.identity.region;
    const lagOf = (r: PeerReplicator) => this.lag.views().find((v) => v.source === r.peer);
    perPeer('cairn_replication_lag_seconds', 'Age of the oldest change of the source region not yet applied here (the measured RPO)', (r) => lagOf(r)?.lagSeconds ?? 0);
    perPeer('cairn_replication_pending_events', 'Changes of the source region not yet applied here', (r) => lagOf(r)?.pendingEvents ?? 0);
    const links = this.links;
    perPeer('cairn_replication_link_up', '1 while the source region feeds this region, 0 while the link is down', (r) => (links.find((l) => l.peer === r.peer)?.connected ? 1 : 0));
    perPeer('cairn_replication_link_redials', 'Times this region set the source up again because it stayed silent while the source region answered, since start', (r) => links.find((l) => l.peer === r.peer)?.view().redials ?? 0);
    perPeer('cairn_replication_applied_events', 'Changes of the source region applied here since this sync started', (r) => r.counters.applied);
    perPeer('cairn_replication_conflicts_resolved', 'Conflicts resolved here while applying the source region’s changes, since start', (r) => r.counters.conflicts);
    perPeer('cairn_replication_apply_failures', 'Attempts to apply a change that failed and will be retried, since start', (r) => r.counters.failures);
    const puller = this.puller;
    new Gauge({
      name: 'cairn_replication_pulled_bytes',
      help: 'Chunk bytes pulled from other regions since this sync started',
      registers,
      collect: function (this: Gauge) {
        this.set(puller.pulledBytes);
      },
    });
  }
}

@ApiTags('replication')
@ApiBearerAuth()
@Access('operator')
@Controller('replication')
export class ReplicationController {
  constructor(private readonly replication: ReplicationService) {}

  @Get('lag')
  @ApiOperation({ summary: 'Replication lag per source region into this region: events pending and seconds (the measured RPO)' })
  lag() {
    return this.replication.lag.refresh();
  }

  @Get('backfills')
  @ApiOperation({ summary: 'Back-fills of buckets that became replicated: progress per bucket and source region' })
  backfills() {
    return this.replication.backfills.views();
  }
}

/** Metadata hands this region's sync the writes to active-passive buckets whose home is elsewhere. */
@Controller()
export class WriteForwardingRpcController {
  constructor(
    private readonly replication: ReplicationService,
    private readonly control: ControlGroupService,
  ) {}

  @MessagePattern(syncPattern(SyncRpc.forwardWrite))
  forwardWrite(@Payload() payload: unknown) {
    return this.replication.forwarding.take(payload, (region) => this.control.unreachableHere(region));
  }
}

@Module({
  imports: [ControlModule],
  controllers: [ReplicationController, WriteForwardingRpcController],
  providers: [ReplicationService],
  exports: [ReplicationService],
})
export class ReplicationModule {}
