import { Inject, Injectable, Logger } from '@nestjs/common';
import { HashRing, type ContentHash } from '@cairn/hashing';
import { CHUNK_REFERENCES_LIMIT_MAX, type ChunkReference, type ShardPlacement } from '@cairn/protocol';
import { runPool, SERVICE_CONFIG } from '@cairn/service-kit';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { ClusterView } from '../cluster/cluster-view';
import { gcDecision, reconcileChunk } from '../domain/chunk-reconciliation';
import { replicationFactorDisagreement } from '../domain/replication-factor-agreement';
import { addCounts, emptyCounts, reportProgress, type ProgressCounts, type ProgressReport, type RateBaseline } from '../domain/job-progress';
import { describeError, type HeldChunkEntry } from '@cairn/chunk-client';
import { ChunkCopier } from '../repair/chunk-copier';
import { ShardRebuilder } from '../repair/shard-rebuilder';
import { durationMs, type SchedulerConfig } from '../scheduler.config';

/** The sweep looks at the hash space one shard (first hex digit) at a time: memory is bounded by a shard. */
export const SWEEP_SHARDS = [...'0123456789abcdef'];
export const NODE_LIST_PAGE = 1_000;
/** Work items one sweep takes on; the rest waits for the next sweep. */
export const SWEEP_MAX_WORK_ITEMS = 200_000;
/** Copies in flight: enough to keep the pace while each waits on a read, a PUT's fsync and its event. */
export const SWEEP_COPY_CONCURRENCY = 4;
export const SWEEP_DELETE_CONCURRENCY = 8;
export const LOST_SAMPLE_MAX = 20;
const REPORT_EVERY_MS = 1_000;

export type SweepCategory = 'repair' | 'rebalance' | 'gc';

export interface SweepNodeSummary {
  readonly listed: boolean;
  readonly draining: boolean;
  readonly chunks: number;
  readonly bytes: number;
  readonly error?: string;
}

export interface SweepReport {
  readonly id: string;
  readonly trigger: string;
  /** The scheduler instance that ran it. */
  readonly instance: string;
  readonly state: 'surveying' | 'working' | 'done' | 'failed';
  readonly ringEpoch: number;
  /** Ring members left out of placement for this sweep: unreachable for longer than CAIRN_REREPLICATE_AFTER_MS. */
  readonly leftOut: readonly string[];
  readonly fencingToken: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly survey: {
    readonly shardsDone: number;
    readonly shardsTotal: number;
    readonly chunksSeen: number;
    readonly referencedChunks: number;
    readonly unreferencedChunks: number;
    readonly lostChunks: number;
    readonly lostSample: readonly string[];
    readonly undecidedChunks: number;
  };
  readonly nodes: Readonly<Record<string, SweepNodeSummary>>;
  readonly work: Readonly<Record<SweepCategory, ProgressReport>>;
  readonly failures: number;
  readonly lastFailure?: string;
  /** What the restore window costs: unreferenced chunks past the GC grace that are kept because a moment within the window still referenced them. */
  readonly restoreWindow?: RestoreWindowCost;
}

export interface RestoreWindowCost {
  readonly windowMs: number;
  readonly retainedChunks: number;
  /** Bytes on the nodes (every copy counted). */
  readonly retainedBytes: number;
}

type WorkItem =
  | { readonly kind: 'copy'; readonly category: 'repair' | 'rebalance'; readonly hash: ContentHash; readonly sizeBytes: number; readonly to: readonly string[]; readonly sources: readonly string[]; readonly trim: readonly string[]; readonly expected: readonly string[] }
  | { readonly kind: 'trim'; readonly hash: ContentHash; readonly sizeBytes: number; readonly from: readonly string[]; readonly expected: readonly string[] }
  | { readonly kind: 'gc'; readonly hash: ContentHash; readonly sizeBytes: number; readonly holders: readonly string[]; readonly unlessTouchedSinceMs: number }
  | { readonly kind: 'rebuild'; readonly hash: ContentHash; readonly sizeBytes: number; readonly to: readonly string[]; readonly stripes: readonly ShardPlacement[]; readonly ring: HashRing };

export interface SweepRun {
  readonly id: string;
  readonly instance: string;
  readonly trigger: string;
  readonly fencingToken: number;
  /** The lock resource whose lease issued fencingToken: nodes keep the highest token per resource. */
  readonly fencingResource: string;
  readonly signal: AbortSignal;
  /** Nodes known unreachable since (ms), e.g. from monitoring's NodeDown; the sweep's own record counts too, the earlier wins. */
  readonly unreachableSince?: Readonly<Record<string, number>>;
}

/**
 * The repair sweep (docs/architecture.md §6): compares what every storage node holds with what the
 * ring and metadata say it should, shard by shard, then does the work in one paced pass:
 * - copies referenced chunks to ring replicas that lack them (repair: a node that was down
 *   during writes, a lost event; rebalance: the ring changed), then trims copies on nodes the
 *   ring no longer names once every named replica holds the chunk (drained nodes empty out);
 * - deletes chunks no version, part or open upload references, after the grace period, fenced
 *   by the lease's token and refused by the node if the chunk was written since.
 * A survey comes first so the work has a total, and so its progress and ETA are honest.
 */
@Injectable()
export class ChunkSweep {
  private readonly logger = new Logger('ChunkSweep');
  private current: SweepReportBuilder | null = null;

  constructor(
    private readonly cluster: ClusterView,
    private readonly copier: ChunkCopier,
    private readonly rebuilder: ShardRebuilder,
    private readonly state: SchedulerStateStore,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  /** The sweep this process runs now, if any. */
  get running(): SweepReport | null {
    return this.current?.report() ?? null;
  }

  async run(run: SweepRun): Promise<SweepReport> {
    await this.cluster.ring.ready();
    const members = this.cluster.ring.nodes();
    const { ring, leftOut } = await this.placementRing(this.cluster.ring.ring(), members.map((n) => n.nodeId), run.signal, run.unreachableSince ?? {});
    const builder = new SweepReportBuilder(run, ring.epoch, members.map((n) => ({ nodeId: n.nodeId, draining: n.draining })), leftOut, durationMs(this.config.CAIRN_RESTORE_WINDOW));
    this.current = builder;
    const publish = throttle(REPORT_EVERY_MS, () => this.state.setJson('sweep:current', builder.report()));
    try {
      const work: WorkItem[] = [];
      for (const shard of SWEEP_SHARDS) {
        run.signal.throwIfAborted();
        await this.surveyShard(shard, ring, builder, work, run.signal);
        builder.shardDone();
        await publish();
      }
      builder.startWork();
      await this.state.setJson('sweep:current', builder.report());
      await this.execute(work, builder, run, publish);
      builder.finish();
      this.logger.log(describeSweep(builder.report()));
    } catch (error) {
      builder.fail(describeError(error));
      this.logger.warn(`sweep ${run.id} failed: ${describeError(error)}`);
    } finally {
      this.current = null;
      const report = builder.report();
      await this.state.setJson('sweep:current', null);
      await this.state.setJson('sweep:last', report);
      if (report.state === 'done') await this.state.setJson('sweep:last-complete', report);
    }
    return builder.report();
  }

  /**
   * The ring chunks are placed by in this sweep: the current one, less members that have been
   * unreachable for longer than CAIRN_REREPLICATE_AFTER_MS, so a dead node's chunks get their
   * copies back elsewhere. Nothing is deleted from a left-out node (it cannot be listed); when it
   * answers again it is back in placement, is brought up to date, and the stand-in copies are
   * trimmed.
   */
  private async placementRing(ring: HashRing, nodeIds: readonly string[], signal: AbortSignal, known: Readonly<Record<string, number>>): Promise<{ ring: HashRing; leftOut: string[] }> {
    const now = Date.now();
    const since = await this.state.hashNumbers('node-unreachable-since');
    const next = new Map<string, number>();
    await Promise.all(
      nodeIds.map(async (nodeId) => {
        signal.throwIfAborted();
        const reachable = await this.cluster.nodes.list(nodeId, { after: '', limit: 1 }).then(() => true, () => false);
        if (!reachable) next.set(nodeId, Math.min(since.get(nodeId) ?? now, known[nodeId] ?? now));
      }),
    );
    await this.state.replaceHashNumbers('node-unreachable-since', next);
    const leftOut = ring.members.filter((m) => (next.get(m.nodeId) ?? now) <= now - this.config.CAIRN_REREPLICATE_AFTER_MS).map((m) => m.nodeId);
    const kept = ring.members.filter((m) => !leftOut.includes(m.nodeId));
    if (leftOut.length === 0 || kept.length === 0) return { ring, leftOut: [] };
    this.logger.warn(`placing chunks without ${leftOut.join(', ')}: unreachable for over ${this.config.CAIRN_REREPLICATE_AFTER_MS} ms`);
    return { ring: HashRing.build({ epoch: ring.epoch, members: kept }), leftOut };
  }

  private async surveyShard(shard: string, ring: HashRing, builder: SweepReportBuilder, work: WorkItem[], signal: AbortSignal): Promise<void> {
    // Holdings are listed before references are read: a chunk written after its listing is not judged at all.
    const held = new Map<ContentHash, { sizeBytes: number; holders: string[]; touchedAtMs: number }>();
    const listed = new Set<string>();
    await Promise.all(
      builder.nodeIds.map(async (nodeId) => {
        try {
          for await (const entry of this.listShard(nodeId, shard, signal)) {
            let h = held.get(entry.hash);
            if (!h) held.set(entry.hash, (h = { sizeBytes: entry.sizeBytes, holders: [], touchedAtMs: entry.touchedAtMs }));
            h.holders.push(nodeId);
            h.touchedAtMs = Math.max(h.touchedAtMs, entry.touchedAtMs);
            builder.held(nodeId, entry.sizeBytes);
          }
          listed.add(nodeId);
        } catch (error) {
          builder.unlisted(nodeId, describeError(error));
        }
      }),
    );
    const lookStartedAtMs = Date.now();
    const references = new Map<ContentHash, ChunkReference>();
    for await (const reference of this.referencesInShard(shard, signal)) references.set(reference.hash as ContentHash, reference);

    const candidates = await this.state.hashNumbers(`gc:${shard}`);
    const nextCandidates = new Map<string, number>();
    const graceMs = this.config.CAIRN_GC_GRACE_MS;
    // Point-in-time restore: a chunk a moment within the window referenced is kept that long after it was released.
    const retentionMs = Math.max(graceMs, durationMs(this.config.CAIRN_RESTORE_WINDOW));
    const hashes = new Set<ContentHash>([...held.keys(), ...references.keys()]);
    for (const hash of hashes) {
      const h = held.get(hash);
      const reference = references.get(hash);
      const action = reconcileChunk(
        {
          hash,
          sizeBytes: h?.sizeBytes ?? reference?.sizeBytes ?? 0,
          holders: h?.holders ?? [],
          reference: reference ? { replicationFactor: reference.replicationFactor, ...(reference.stripes ? { stripes: reference.stripes } : {}) } : null,
        },
        { ring, listed },
      );
      builder.seen(reference !== undefined);
      const sizeBytes = h?.sizeBytes ?? reference?.sizeBytes ?? 0;
      switch (action.kind) {
        case 'healthy':
          break;
        case 'lost':
          builder.lost(hash);
          this.logger.error(`chunk ${hash} is referenced but no storage node holds it`);
          break;
        case 'unknown':
          builder.undecided();
          break;
        case 'rebuild':
          // A shard of an erasure-coded chunk no node holds (lost with its node, or set aside as corrupt by a scrub).
          if (work.length < SWEEP_MAX_WORK_ITEMS) work.push({ kind: 'rebuild', hash, sizeBytes, to: action.to, stripes: action.stripes, ring });
          builder.plan('repair', { totalItems: 1, totalBytes: sizeBytes * action.to.length });
          break;
        case 'copy':
          if (work.length < SWEEP_MAX_WORK_ITEMS) work.push({ kind: 'copy', category: action.reason, hash, sizeBytes, to: action.to, sources: action.sources, trim: action.trim, expected: action.expected });
          builder.plan(action.reason, { totalItems: 1, totalBytes: sizeBytes * action.to.length });
          if (action.trim.length > 0) builder.plan('rebalance', { totalItems: 1 });
          break;
        case 'trim':
          if (work.length < SWEEP_MAX_WORK_ITEMS) work.push({ kind: 'trim', hash, sizeBytes, from: action.from, expected: action.expected });
          builder.plan('rebalance', { totalItems: 1 });
          break;
        case 'unreferenced': {
          const decision = gcDecision(candidates.get(hash), lookStartedAtMs, retentionMs);
          const writtenLately = (h?.touchedAtMs ?? 0) >= lookStartedAtMs - retentionMs;
          if (decision.collect && !writtenLately && work.length < SWEEP_MAX_WORK_ITEMS) {
            work.push({ kind: 'gc', hash, sizeBytes, holders: action.holders, unlessTouchedSinceMs: lookStartedAtMs - retentionMs });
            builder.plan('gc', { totalItems: 1, totalBytes: sizeBytes * action.holders.length });
          } else if (!decision.collect && gcDecision(candidates.get(hash), lookStartedAtMs, graceMs).collect && (h?.touchedAtMs ?? 0) < lookStartedAtMs - graceMs) {
            builder.retained(sizeBytes * action.holders.length);
          }
          // Kept as a candidate until it is gone or referenced again.
          nextCandidates.set(hash, decision.firstSeenUnreferencedAtMs);
          break;
        }
        default:
          action satisfies never;
      }
    }
    await this.state.replaceHashNumbers(`gc:${shard}`, nextCandidates);
  }

  private async execute(work: readonly WorkItem[], builder: SweepReportBuilder, run: SweepRun, publish: () => Promise<void>): Promise<void> {
    const copies = work.filter((w) => w.kind === 'copy');
    const rebuilds = work.filter((w) => w.kind === 'rebuild');
    const deletes = work.filter((w) => w.kind === 'trim' || w.kind === 'gc');
    await runPool(rebuilds, SWEEP_COPY_CONCURRENCY, run.signal, async (item) => {
      const outcome = await this.rebuilder.rebuild(item.hash, item.stripes, item.ring, item.to, run.signal);
      builder.progress('repair', { doneItems: 1, doneBytes: Math.max(0, item.sizeBytes) * item.to.length });
      if (outcome.rebuiltTo.length < item.to.length) builder.failure(`rebuild ${item.hash}: ${outcome.failed.map((f) => `${f.nodeId} ${f.reason}`).join('; ')}`);
      await publish();
    });
    await runPool(copies, SWEEP_COPY_CONCURRENCY, run.signal, async (item) => {
      const outcome = await this.copier.copy(item.hash, item.sources, item.to, item.category, run.signal);
      const placed = outcome.copiedTo.length + outcome.alreadyThere.length;
      builder.progress(item.category, { doneItems: 1, doneBytes: Math.max(0, item.sizeBytes) * item.to.length });
      if (placed < item.to.length) builder.failure(`copy ${item.hash}: ${outcome.failed.map((f) => `${f.nodeId} ${f.reason}`).join('; ') || 'no source'}`);
      else if (item.trim.length > 0) await this.trim(item.hash, item.trim, item.expected, item.sizeBytes, run, builder);
      if (item.trim.length > 0) builder.progress('rebalance', { doneItems: 1 });
      await publish();
    });
    await runPool(deletes, SWEEP_DELETE_CONCURRENCY, run.signal, async (item) => {
      if (item.kind === 'trim') {
        await this.trim(item.hash, item.from, item.expected, item.sizeBytes, run, builder);
        builder.progress('rebalance', { doneItems: 1 });
      } else if (item.kind === 'gc') {
        for (const nodeId of item.holders) {
          try {
            const outcome = await this.cluster.nodes.delete(nodeId, item.hash, {
              fencingToken: run.fencingToken,
              fencingResource: run.fencingResource,
              unlessTouchedSinceMs: item.unlessTouchedSinceMs,
            });
            if (outcome === 'recently-touched') this.logger.log(`kept ${item.hash} on ${nodeId}: written again since the garbage collection looked`);
          } catch (error) {
            builder.failure(`gc ${item.hash} on ${nodeId}: ${describeError(error)}`);
          }
        }
        builder.progress('gc', { doneItems: 1, doneBytes: item.sizeBytes * item.holders.length });
      }
      await publish();
    });
  }

  /** Deletes the copies the ring no longer names, once each named replica is seen holding the chunk. */
  private async trim(hash: ContentHash, from: readonly string[], expected: readonly string[], sizeBytes: number, run: SweepRun, builder: SweepReportBuilder): Promise<void> {
    try {
      const sizes = await Promise.all(expected.map((n) => this.cluster.nodes.head(n, hash)));
      if (sizes.some((s) => s === null || (sizeBytes > 0 && s !== sizeBytes))) {
        builder.failure(`trim ${hash}: not every ring replica holds it yet`);
        return;
      }
      for (const nodeId of from) await this.cluster.nodes.delete(nodeId, hash, { fencingToken: run.fencingToken, fencingResource: run.fencingResource });
    } catch (error) {
      builder.failure(`trim ${hash}: ${describeError(error)}`);
    }
  }

  private async *listShard(nodeId: string, shard: string, signal: AbortSignal): AsyncGenerator<HeldChunkEntry> {
    let after = '';
    for (;;) {
      signal.throwIfAborted();
      const page = await this.cluster.nodes.list(nodeId, { prefix: shard, after, limit: NODE_LIST_PAGE });
      yield* page.entries;
      if (!page.nextAfter) return;
      after = page.nextAfter;
    }
  }

  private async *referencesInShard(shard: string, signal: AbortSignal): AsyncGenerator<ChunkReference> {
    const index = SWEEP_SHARDS.indexOf(shard);
    let after = index === 0 ? '' : `${SWEEP_SHARDS[index - 1]}${'f'.repeat(63)}`;
    const before = SWEEP_SHARDS[index + 1];
    for (;;) {
      signal.throwIfAborted();
      const page = await this.cluster.listChunkReferences({ after, ...(before ? { before } : {}), limit: CHUNK_REFERENCES_LIMIT_MAX });
      const disagreement = replicationFactorDisagreement(page.regionReplicationFactor, this.config.CAIRN_REPLICATION_FACTOR);
      if (disagreement) throw new Error(disagreement);
      yield* page.chunks;
      if (!page.nextAfter) return;
      after = page.nextAfter;
    }
  }
}

class SweepReportBuilder {
  readonly nodeIds: readonly string[];
  private readonly startedAtMs = Date.now();
  private workStartedAtMs: number | null = null;
  private finishedAtMs: number | null = null;
  private state: SweepReport['state'] = 'surveying';
  private error?: string;
  private shardsDone = 0;
  private chunksSeen = 0;
  private referencedChunks = 0;
  private lostChunks = 0;
  private undecidedChunks = 0;
  private readonly lostSample: string[] = [];
  private readonly nodes = new Map<string, { listed: boolean; draining: boolean; chunks: number; bytes: number; error?: string }>();
  private readonly counts: Record<SweepCategory, ProgressCounts> = { repair: emptyCounts(), rebalance: emptyCounts(), gc: emptyCounts() };
  private readonly baselines: Partial<Record<SweepCategory, RateBaseline>> = {};
  private failures = 0;
  private lastFailure?: string;
  private retainedChunks = 0;
  private retainedBytes = 0;

  constructor(
    private readonly run: SweepRun,
    private readonly ringEpoch: number,
    members: readonly { nodeId: string; draining: boolean }[],
    private readonly leftOut: readonly string[],
    private readonly restoreWindowMs: number,
  ) {
    this.nodeIds = members.map((m) => m.nodeId);
    for (const m of members) this.nodes.set(m.nodeId, { listed: true, draining: m.draining, chunks: 0, bytes: 0 });
  }

  held(nodeId: string, sizeBytes: number): void {
    const n = this.nodes.get(nodeId)!;
    n.chunks++;
    n.bytes += sizeBytes;
  }

  unlisted(nodeId: string, error: string): void {
    const n = this.nodes.get(nodeId)!;
    n.listed = false;
    n.error = error;
  }

  shardDone(): void {
    this.shardsDone++;
  }

  seen(referenced: boolean): void {
    this.chunksSeen++;
    if (referenced) this.referencedChunks++;
  }

  lost(hash: string): void {
    this.lostChunks++;
    if (this.lostSample.length < LOST_SAMPLE_MAX) this.lostSample.push(hash);
  }

  /** An unreferenced chunk kept only for the restore window. */
  retained(bytes: number): void {
    this.retainedChunks++;
    this.retainedBytes += bytes;
  }

  undecided(): void {
    this.undecidedChunks++;
  }

  plan(category: SweepCategory, counts: Partial<ProgressCounts>): void {
    this.counts[category] = addCounts(this.counts[category], counts);
  }

  progress(category: SweepCategory, counts: Partial<ProgressCounts>): void {
    this.counts[category] = addCounts(this.counts[category], counts);
    this.baselines[category] ??= { atMs: Date.now(), counts: this.counts[category] };
  }

  failure(message: string): void {
    this.failures++;
    this.lastFailure = message;
  }

  startWork(): void {
    this.state = 'working';
    this.workStartedAtMs = Date.now();
  }

  finish(): void {
    this.state = 'done';
    this.finishedAtMs = Date.now();
  }

  fail(error: string): void {
    this.state = 'failed';
    this.error = error;
    this.finishedAtMs = Date.now();
  }

  report(): SweepReport {
    const now = this.finishedAtMs ?? Date.now();
    const workStarted = this.workStartedAtMs ?? now;
    const work = (c: SweepCategory) => reportProgress(this.counts[c], workStarted, now, this.baselines[c]);
    return {
      id: this.run.id,
      trigger: this.run.trigger,
      instance: this.run.instance,
      state: this.state,
      ringEpoch: this.ringEpoch,
      leftOut: [...this.leftOut],
      fencingToken: this.run.fencingToken,
      startedAt: new Date(this.startedAtMs).toISOString(),
      ...(this.finishedAtMs ? { finishedAt: new Date(this.finishedAtMs).toISOString() } : {}),
      ...(this.error ? { error: this.error } : {}),
      survey: {
        shardsDone: this.shardsDone,
        shardsTotal: SWEEP_SHARDS.length,
        chunksSeen: this.chunksSeen,
        referencedChunks: this.referencedChunks,
        unreferencedChunks: this.chunksSeen - this.referencedChunks,
        lostChunks: this.lostChunks,
        lostSample: [...this.lostSample],
        undecidedChunks: this.undecidedChunks,
      },
      nodes: Object.fromEntries([...this.nodes].map(([id, n]) => [id, { ...n }])),
      work: { repair: work('repair'), rebalance: work('rebalance'), gc: work('gc') },
      failures: this.failures,
      ...(this.lastFailure ? { lastFailure: this.lastFailure } : {}),
      restoreWindow: { windowMs: this.restoreWindowMs, retainedChunks: this.retainedChunks, retainedBytes: this.retainedBytes },
    };
  }
}

function describeSweep(r: SweepReport): string {
  const w = r.work;
  return (
    `sweep ${r.id} (${r.trigger}) at ring epoch ${r.ringEpoch}: ${r.survey.chunksSeen} chunks seen, ` +
    `repaired ${w.repair.doneItems}/${w.repair.totalItems}, rebalanced ${w.rebalance.doneItems}/${w.rebalance.totalItems}, ` +
    `collected ${w.gc.doneItems}/${w.gc.totalItems}, ${r.survey.lostChunks} lost, ${r.failures} failures`
  );
}


function throttle(everyMs: number, fn: () => Promise<void>): () => Promise<void> {
  let lastMs = 0;
  return async () => {
    const now = Date.now();
    if (now - lastMs < everyMs) return;
    lastMs = now;
    await fn();
  };
}
