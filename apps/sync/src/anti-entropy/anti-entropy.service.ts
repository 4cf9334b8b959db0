import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LockClient, type SingletonRun } from '@cairn/lock-client';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import {
  ANTI_ENTROPY_NODES_MAX,
  ANTI_ENTROPY_TREE_DEPTH,
  CairnError,
  ErrorCodes,
  METADATA_SERVICE,
  MetadataRpc,
  type AntiEntropyRunReport,
  type AntiEntropyStatusView,
  type ListBucketsReply,
} from '@cairn/protocol';
import { ClusterCredentials, MetricsService, SERVICE_IDENTITY, WorkerRegistry, type NamedWorker, type ServiceIdentity, type WorkerStatus } from '@cairn/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';
import { AntiEntropyPeer } from './anti-entropy.peer';
import { FederationRequester } from '../federation/federation-rpc';
import { applyThrough, repairKey, type ApplyReplicated, type KeyRepairOutcome } from './key-repair';
import { compareMerkleTrees, type MerkleSide } from './merkle-compare';
import { REPLICA_CHUNK_PULLER, type ReplicaChunkPuller } from './replica-chunks.port';
import { ReplicaTrees } from './replica-trees';
import { treeSide } from './tree-side';

export type AntiEntropyTrigger = AntiEntropyRunReport['trigger'];

/** What anti-entropy is told by the sync config (sync.config.ts). */
export interface AntiEntropySettings {
  /** Between periodic runs over every replicated bucket and peer; 0: none (link heals and operators only). */
  readonly intervalMs: number;
  /** Between probes of each peer (how soon a healed link is noticed). */
  readonly probeMs: number;
  /** `lock`: one sync per region runs comparisons, the holder of the lock-manager lease; `none`: every instance (run one). */
  readonly lease: 'lock' | 'none';
  /** One request to a peer's sync. */
  readonly requestTimeoutMs: number;
  readonly peers: readonly string[];
}
export const ANTI_ENTROPY_SETTINGS = Symbol('AntiEntropySettings');

/** The lease (lock `singleton/<name>`) whose holder alone runs comparisons in a region. */
export const ANTI_ENTROPY_LEASE = 'sync-anti-entropy';
const LEASE_TTL_MS = 10_000;
/** A differing range with at most this many keys on both sides is listed rather than descended. */
export const ANTI_ENTROPY_LIST_MAX_KEYS = 256;
const LIST_CONCURRENCY = 4;
const REPAIR_CONCURRENCY = 4;
/** Errors kept in a report (all are counted). */
const REPORT_ERRORS_KEPT = 10;
const APPLY_TIMEOUT_MS = 30_000;
const BUCKETS_TIMEOUT_MS = 15_000;
/** Longest shutdown waits for a comparison in flight to notice it should stop. */
const SHUTDOWN_WAIT_MS = 5_000;
const RUN_DURATION_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface RunRequest {
  readonly peer: string;
  /** Absent: every replicated bucket. */
  readonly bucket?: string;
  readonly trigger: AntiEntropyTrigger;
}

type MutableReport = { -readonly [K in keyof AntiEntropyRunReport]: AntiEntropyRunReport[K] } & { errors: string[] };

/**
 * Anti-entropy between regions (docs/anti-entropy.md): for each replicated bucket and each peer
 * region, compares this region's Merkle tree of the bucket with the peer's — roots first, then only
 * the ranges that differ — and pulls what this region lacks: each differing key's events from the
 * peer's META, applied here through applyReplicated (exactly once, in order), after the chunks of
 * any version that needs them. The peer's own sync does the same the other way round, so each
 * direction is repaired by the region that lacks the data.
 *
 * It runs every `intervalMs`, when a peer answers again after failing (a link healed), and when an
 * operator asks (POST /replication/anti-entropy) — one comparison at a time, in the one sync of the
 * region holding the `sync-anti-entropy` lease.
 */
@Injectable()
export class AntiEntropyService implements NamedWorker, OnApplicationBootstrap, OnApplicationShutdown {
  readonly name = 'sync-anti-entropy';
  private readonly logger = new Logger('AntiEntropy');
  private readonly federation: FederationRequester;
  private readonly peers: ReadonlyMap<string, AntiEntropyPeer>;
  private readonly reachability = new Map<string, { reachable: boolean | null; lastChangeAt: string | null }>();
  private readonly queue: RunRequest[] = [];
  private readonly reports = new Map<string, MutableReport>();
  private readonly running = new Set<string>();
  private readonly apply: ApplyReplicated;
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private leading = false;
  private singleton: SingletonRun | undefined;
  private leaderLoop: Promise<void> | undefined;
  private runs = 0;
  private lastError: { message: string; at: string } | undefined;
  private readonly metric;

  constructor(
    private readonly rpc: RpcClient,
    nats: NatsConnectionManager,
    credentials: ClusterCredentials,
    private readonly trees: ReplicaTrees,
    private readonly locks: LockClient,
    private readonly workers: WorkerRegistry,
    metrics: MetricsService,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(ANTI_ENTROPY_SETTINGS) readonly settings: AntiEntropySettings,
    @Inject(REPLICA_CHUNK_PULLER) private readonly chunks: ReplicaChunkPuller,
  ) {
    this.federation = new FederationRequester(nats, identity.namespace, credentials, identity.region);
    const peers = settings.peers.filter((p) => p !== identity.region);
    this.peers = new Map(peers.map((p) => [p, new AntiEntropyPeer(this.federation, p, identity.region, settings.requestTimeoutMs)]));
    for (const p of peers) this.reachability.set(p, { reachable: null, lastChangeAt: null });
    this.apply = applyThrough(rpc, APPLY_TIMEOUT_MS);
    const registers = [metrics.registry];
    const leading = () => this.leading;
    const reachability = this.reachability;
    this.metric = {
      runs: new Counter({ name: 'cairn_anti_entropy_runs_total', help: 'Anti-entropy comparisons of a bucket with a peer region, by what started them and how they ended', labelNames: ['peer', 'trigger', 'outcome'], registers }),
      duration: new Histogram({ name: 'cairn_anti_entropy_run_duration_seconds', help: 'Duration of one anti-entropy comparison and repair of a bucket with a peer region', labelNames: ['peer'], buckets: RUN_DURATION_BUCKETS_SECONDS, registers }),
      ranges: new Counter({ name: 'cairn_anti_entropy_ranges_compared_total', help: 'Merkle tree nodes whose hashes were compared', labelNames: ['peer'], registers }),
      differing: new Counter({ name: 'cairn_anti_entropy_keys_differing_total', help: 'Keys found to differ from a peer region', labelNames: ['peer'], registers }),
      applied: new Counter({ name: 'cairn_anti_entropy_events_applied_total', help: 'Events of a peer region applied here by anti-entropy (changes this region lacked)', labelNames: ['peer'], registers }),
      errors: new Counter({ name: 'cairn_anti_entropy_errors_total', help: 'Keys or runs anti-entropy could not repair or finish', labelNames: ['peer'], registers }),
      lastDiffering: new Gauge({ name: 'cairn_anti_entropy_last_keys_differing', help: 'Keys that differed in the last comparison of a bucket with a peer region', labelNames: ['bucket', 'peer'], registers }),
      leader: new Gauge({
        name: 'cairn_anti_entropy_leader',
        help: '1 while this instance holds the region’s anti-entropy lease and runs comparisons',
        registers,
        collect(this: Gauge) {
          this.set(leading() ? 1 : 0);
        },
      }),
      reachable: new Gauge({
        name: 'cairn_anti_entropy_peer_reachable',
        help: '1 while the peer region’s sync answers over the link, 0 when it stopped answering (absent before the first probe)',
        labelNames: ['peer'],
        registers,
        collect(this: Gauge<'peer'>) {
          for (const [peer, r] of reachability) if (r.reachable !== null) this.set({ peer }, r.reachable ? 1 : 0);
        },
      }),
    };
  }

  onApplicationBootstrap(): void {
    this.workers.register(this);
    if (this.peers.size === 0) {
      this.logger.log('no peer regions (CAIRN_SYNC_PEERS): anti-entropy has nothing to compare with');
      return;
    }
    if (this.settings.lease === 'none') {
      this.leaderLoop = this.lead(this.stopping.signal);
      return;
    }
    this.singleton = this.locks.runAsSingleton(ANTI_ENTROPY_LEASE, (context) => this.lead(context.signal), {
      ttlMs: LEASE_TTL_MS,
      onError: (error) => this.failed(`lease: ${String(error)}`),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort(new Error('sync is stopping'));
    this.wake?.();
    // A request to a peer or to metadata in flight is not cut short: shutdown waits for it a while, not for its whole timeout.
    const stopped = Promise.all([this.singleton?.stop(), this.leaderLoop?.catch(() => undefined)]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
    this.workers.unregister(this.name);
  }

  get leader(): boolean {
    return this.leading;
  }

  /**
   * Queues runs for one bucket or every replicated one, against one peer or every peer. Answers the
   * `bucket→peer` pairs (or `*→peer`) queued; NOT_LEADER on an instance that does not run them.
   */
  requestRun(options: { readonly bucket?: string; readonly peer?: string; readonly trigger?: AntiEntropyTrigger } = {}): string[] {
    if (!this.leading) {
      throw new CairnError('NOT_LEADER', `this sync instance (${this.identity.instance}) does not hold the ${ANTI_ENTROPY_LEASE} lease: another instance of ${this.identity.region} runs anti-entropy`);
    }
    if (options.peer !== undefined && !this.peers.has(options.peer)) {
      throw new CairnError(ErrorCodes.InvalidCommand, `${options.peer} is not a peer of ${this.identity.region} (CAIRN_SYNC_PEERS: ${[...this.peers.keys()].join(', ') || 'none'})`);
    }
    const peers = options.peer ? [options.peer] : [...this.peers.keys()];
    return peers.map((peer) => this.enqueue({ peer, trigger: options.trigger ?? 'operator', ...(options.bucket ? { bucket: options.bucket } : {}) }));
  }

  view(): AntiEntropyStatusView {
    return {
      region: this.identity.region,
      instance: this.identity.instance,
      leader: this.leading,
      intervalMs: this.settings.intervalMs,
      peers: [...this.reachability].map(([region, r]) => ({ region, ...r })),
      running: [...this.running],
      queued: this.queue.map((r) => `${r.bucket ?? '*'}→${r.peer}`),
      reports: [...this.reports.values()].map((r) => ({ ...r, errors: [...r.errors] })).sort((a, b) => (a.bucket + a.peer).localeCompare(b.bucket + b.peer)),
    };
  }

  status(): WorkerStatus {
    const reports = [...this.reports.values()];
    return {
      name: this.name,
      state: this.stopping.signal.aborted ? 'stopped' : this.running.size > 0 ? 'running' : this.lastError && reports.some((r) => r.state === 'failed') ? 'failed' : 'idle',
      runs: this.runs,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: {
        doneItems: reports.filter((r) => r.state !== 'running').length,
        totalItems: reports.length + this.queue.length,
        detail: this.leading
          ? `leader: ${this.running.size ? `comparing ${[...this.running].join(', ')}` : 'idle'}; ${this.queue.length} queued`
          : this.peers.size === 0
            ? 'no peers'
            : 'standby: another instance holds the lease',
      },
    };
  }

  /** While this instance holds the lease: probes the peers, queues the periodic runs, and runs the queue. */
  private async lead(signal: AbortSignal): Promise<void> {
    this.leading = true;
    this.logger.log(`leading anti-entropy of ${this.identity.region} with ${[...this.peers.keys()].join(', ')}`);
    const timers: NodeJS.Timeout[] = [];
    const onAbort = () => this.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (const peer of this.peers.keys()) this.enqueue({ peer, trigger: 'startup' });
      if (this.settings.intervalMs > 0) {
        timers.push(setInterval(() => this.peers.forEach((_, peer) => this.enqueue({ peer, trigger: 'interval' })), this.settings.intervalMs));
      }
      let probing: Promise<void> | undefined;
      timers.push(
        setInterval(() => {
          probing ??= this.probeAll(signal).finally(() => (probing = undefined));
        }, this.settings.probeMs),
      );
      for (const t of timers) t.unref();
      while (!signal.aborted) {
        const next = this.queue.shift();
        if (!next) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        await this.runRequest(next, signal).catch((error) => {
          if (!signal.aborted) this.failed(`${next.bucket ?? '*'}→${next.peer}: ${String(error)}`);
        });
      }
    } finally {
      for (const t of timers) clearInterval(t);
      signal.removeEventListener('abort', onAbort);
      this.leading = false;
      this.queue.length = 0;
    }
  }

  private enqueue(request: RunRequest): string {
    const label = `${request.bucket ?? '*'}→${request.peer}`;
    // A run already waiting for the same pair (or for every bucket of the peer) covers this one.
    const covered = this.queue.some((q) => q.peer === request.peer && (q.bucket === undefined || q.bucket === request.bucket));
    if (!covered) {
      this.queue.push(request);
      this.wake?.();
    }
    return label;
  }

  private async probeAll(signal: AbortSignal): Promise<void> {
    await Promise.all(
      [...this.peers.values()].map(async (peer) => {
        if (signal.aborted) return;
        try {
          await peer.probe(Math.min(this.settings.requestTimeoutMs, this.settings.probeMs));
          this.markReachable(peer.region, true);
        } catch {
          this.markReachable(peer.region, false);
        }
      }),
    );
  }

  private markReachable(peer: string, reachable: boolean): void {
    const state = this.reachability.get(peer);
    if (!state || state.reachable === reachable) return;
    const healed = state.reachable === false && reachable;
    state.reachable = reachable;
    state.lastChangeAt = new Date().toISOString();
    if (healed) {
      this.logger.log(`${peer} answers again: comparing every replicated bucket with it`);
      if (this.leading) this.enqueue({ peer, trigger: 'link-healed' });
    } else if (!reachable) {
      this.logger.warn(`${peer} does not answer: anti-entropy with it resumes when it does`);
    }
  }

  private async runRequest(request: RunRequest, signal: AbortSignal): Promise<void> {
    const buckets = request.bucket ? [request.bucket] : await this.replicatedBuckets();
    for (const bucket of buckets) {
      if (signal.aborted) return;
      await this.runPair(bucket, request.peer, request.trigger, signal);
    }
  }

  /** Buckets whose replication mode is not `local`. */
  private async replicatedBuckets(): Promise<string[]> {
    const reply = await this.rpc.request<ListBucketsReply>(METADATA_SERVICE, MetadataRpc.listBuckets, {}, { timeoutMs: BUCKETS_TIMEOUT_MS });
    return reply.buckets.filter((b) => b.replication.mode !== 'local' && !b.deleting).map((b) => b.name);
  }

  /** One comparison and repair of `bucket` with `peerRegion`; its report is kept (and shown while it runs). */
  async runPair(bucket: string, peerRegion: string, trigger: AntiEntropyTrigger, signal: AbortSignal): Promise<AntiEntropyRunReport> {
    const peer = this.peers.get(peerRegion);
    if (!peer) throw new Error(`${peerRegion} is not a peer`);
    const label = `${bucket}→${peerRegion}`;
    const startedMs = Date.now();
    const report: MutableReport = {
      bucket,
      peer: peerRegion,
      trigger,
      state: 'running',
      startedAt: new Date(startedMs).toISOString(),
      finishedAt: null,
      durationMs: null,
      inSync: null,
      rangesCompared: 0,
      rangesListed: 0,
      keysLocal: 0,
      keysPeer: 0,
      keysDiffering: 0,
      keysOnlyHere: 0,
      keysRepaired: 0,
      eventsFetched: 0,
      eventsApplied: 0,
      eventsAlreadyApplied: 0,
      chunksPulled: 0,
      errors: [],
      errorCount: 0,
    };
    const noteError = (message: string) => {
      report.errorCount += 1;
      if (report.errors.length < REPORT_ERRORS_KEPT) report.errors.push(message);
      this.metric.errors.inc({ peer: peerRegion });
    };
    this.reports.set(label, report);
    this.running.add(label);
    try {
      // This region's tree is built while the peer builds its own (the first request asks for the peer's root).
      const local = this.trees.tree(bucket, { fresh: true, signal });
      const localSide: MerkleSide = {
        nodes: async (prefixes) => treeSide((await local).tree, async () => []).nodes(prefixes),
        keys: (prefix) => this.trees.allKeys(bucket, prefix, signal),
      };
      const outcome = await compareMerkleTrees(
        localSide,
        peer.side(bucket),
        {
          depth: ANTI_ENTROPY_TREE_DEPTH,
          listMaxKeys: ANTI_ENTROPY_LIST_MAX_KEYS,
          nodesPerRequest: ANTI_ENTROPY_NODES_MAX,
          listConcurrency: LIST_CONCURRENCY,
          signal,
          onProgress: (p) => Object.assign(report, p),
        },
      );
      this.markReachable(peerRegion, true);
      Object.assign(report, {
        inSync: outcome.inSync,
        rangesCompared: outcome.rangesCompared,
        rangesListed: outcome.rangesListed,
        keysLocal: outcome.keysLocal,
        keysPeer: outcome.keysPeer,
        keysDiffering: outcome.keysDiffering,
        keysOnlyHere: outcome.differences.filter((d) => d.right === null).length,
      });
      // Keys the peer holds something of that this region lacks or holds otherwise: pull them.
      const toRepair = outcome.differences.filter((d) => d.right !== null).map((d) => d.keyId);
      let next = 0;
      let bucketMissing = false;
      const repairer = async () => {
        while (next < toRepair.length && !bucketMissing) {
          signal.throwIfAborted();
          const keyId = toRepair[next++];
          let result: KeyRepairOutcome;
          try {
            result = await repairKey({
              self: this.identity.region,
              bucket,
              keyId,
              peer,
              apply: this.apply,
              chunks: this.chunks,
              localVersionIds: () => this.trees.versionIdsOf(bucket, keyId),
              signal,
            });
          } catch (error) {
            if (signal.aborted) throw error;
            noteError(`key ${keyId}: ${error instanceof Error ? error.message : String(error)}`);
            continue;
          }
          report.eventsFetched += result.eventsFetched;
          report.eventsApplied += result.eventsApplied;
          report.eventsAlreadyApplied += result.eventsAlreadyApplied;
          report.chunksPulled += result.chunksPulled;
          if (result.eventsApplied > 0) report.keysRepaired += 1;
          if (result.error) noteError(`key ${keyId}: ${result.error}`);
          if (result.noSuchBucket) bucketMissing = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(REPAIR_CONCURRENCY, Math.max(1, toRepair.length)) }, repairer));
      report.state = 'done';
    } catch (error) {
      report.state = 'failed';
      noteError(error instanceof Error ? error.message : String(error));
      if (error instanceof CairnError && (error.code === ErrorCodes.NoHandler || error.code === ErrorCodes.Timeout) && /sync of /.test(error.message)) {
        this.markReachable(peerRegion, false);
      }
      this.failed(`${label}: ${report.errors.at(-1)}`);
    } finally {
      this.running.delete(label);
      const finishedMs = Date.now();
      report.finishedAt = new Date(finishedMs).toISOString();
      report.durationMs = finishedMs - startedMs;
      this.runs += 1;
      this.metric.runs.inc({ peer: peerRegion, trigger, outcome: report.state === 'done' ? (report.errorCount > 0 ? 'partial' : 'done') : 'failed' });
      this.metric.duration.observe({ peer: peerRegion }, report.durationMs / 1000);
      this.metric.ranges.inc({ peer: peerRegion }, report.rangesCompared);
      this.metric.differing.inc({ peer: peerRegion }, report.keysDiffering);
      this.metric.applied.inc({ peer: peerRegion }, report.eventsApplied);
      this.metric.lastDiffering.set({ bucket, peer: peerRegion }, report.keysDiffering);
      if (report.state === 'done' && (report.keysDiffering > 0 || report.errorCount > 0)) {
        this.logger.log(
          `${label} (${trigger}): ${report.keysDiffering} key(s) differed (${report.keysOnlyHere} only here), ${report.eventsApplied} event(s) applied to ${report.keysRepaired} key(s), ${report.errorCount} error(s), ${report.durationMs} ms`,
        );
      }
    }
    return { ...report, errors: [...report.errors] };
  }

  /** Recorded for /health; logged when it changes (a lock-manager away would otherwise repeat it every retry). */
  private failed(message: string): void {
    if (message !== this.lastError?.message) this.logger.warn(message);
    this.lastError = { message, at: new Date().toISOString() };
  }
}
