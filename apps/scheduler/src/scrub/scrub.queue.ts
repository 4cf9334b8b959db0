import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { ContentHash } from '@cairn/hashing';
import { abortable, MetricsService, SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, type NamedWorker, type ServiceIdentity, type WorkerStatus } from '@cairn/service-kit';
import { QueueNames, SchedulerQueues } from '../adapters/scheduler-queues';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { ClusterView } from '../cluster/cluster-view';
import { reportProgress, type ProgressReport } from '../domain/job-progress';
import { advanceScrub, initialScrubState, newPass, passIsDue, scrubCoverage, scrubRateBytesPerSecond, type ScrubCoverage, type ScrubNodeState } from '../domain/scrub-coverage';
import { ChunkRepairQueue } from '../repair/chunk-repair.queue';
import { describeError } from '@cairn/chunk-client';
import type { SchedulerConfig } from '../scheduler.config';
import type { SweepReport } from '../sweep/chunk-sweep';

const SCRUB_SCHEDULER_ID = 'scrub-every';
/** One verify request re-hashes at most this much before it answers. */
export const SCRUB_STEP_MAX_BYTES = 64 * 1024 * 1024;
export const SCRUB_STEP_MAX_CHUNKS = 4_096;
/** A tick's budget is the pace times the tick, so a slow tick never makes the next one catch up in a burst. */
const TICK_LOCK_FACTOR = 4;

export interface ScrubNodeReport {
  readonly nodeId: string;
  readonly urgent: boolean;
  readonly corruptFoundTotal: number;
  readonly pass: { readonly startedAt: string; readonly cursor: string; readonly verifiedChunks: number; readonly corruptFound: number };
  readonly previousPass: { readonly startedAt: string; readonly finishedAt: string | null; readonly verifiedBytes: number; readonly verifiedChunks: number; readonly corruptFound: number } | null;
  readonly paceBytesPerSecond: number;
  readonly progress: ProgressReport;
  readonly coverage: ScrubCoverage & { readonly windowDays: number; readonly oldestVerifiedAt: string | null; readonly oldestVerifiedAgeSeconds: number | null };
}

/**
 * Scrub (docs/architecture.md §6): every node re-hashes its chunks in hash order, a step per tick at a
 * pace that covers all its bytes once per CAIRN_SCRUB_PERIOD_MS (never below the floor), on the
 * node itself. Corrupt chunks are quarantined by the node and queued here for repair. The cursor
 * and pass history live in Redis, so a restart resumes where the scrub was; "scrub now" starts a
 * fresh pass at the fastest pace.
 */
@Injectable()
export class ScrubQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'scrub';
  private readonly logger = new Logger('Scrub');
  private readonly known = new Map<string, ScrubNodeState>();
  private nodeBytes = new Map<string, number>();
  private runs = 0;
  private active = 0;
  private lastError?: { message: string; at: string };

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly cluster: ClusterView,
    private readonly state: SchedulerStateStore,
    private readonly repairs: ChunkRepairQueue,
    private readonly workers: WorkerRegistry,
    private readonly metrics: MetricsService,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.workers.register(this);
    this.registerMetrics();
    this.queues.worker(QueueNames.scrub, () => abortable(this.tick(), this.queues.shutdownSignal), { concurrency: 1 });
    await this.queues
      .queue(QueueNames.scrub)
      .upsertJobScheduler(SCRUB_SCHEDULER_ID, { every: this.config.CAIRN_SCRUB_TICK_MS }, { name: 'scrub-tick', opts: { removeOnComplete: true, removeOnFail: 100 } })
      .catch((error) => this.logger.warn(`could not schedule scrub: ${describeError(error)}`));
  }

  /** "Scrub now": a fresh pass at the fastest pace on the given nodes (all when none named). */
  async scrubNow(nodeIds?: readonly string[]): Promise<string[]> {
    await this.cluster.ring.ready();
    const members = this.cluster.ring.nodes().map((n) => n.nodeId);
    const targets = nodeIds && nodeIds.length > 0 ? nodeIds.filter((n) => members.includes(n)) : members;
    const now = Date.now();
    for (const nodeId of targets) {
      const current = (await this.load(nodeId)) ?? initialScrubState(nodeId, now);
      const previous = current.current.verifiedBytes > 0 ? current.current : current.previous;
      await this.save({ nodeId, current: newPass(now), previous, urgent: true, corruptFoundTotal: current.corruptFoundTotal ?? 0 });
    }
    await this.queues.queue(QueueNames.scrub).add('scrub-tick', {}, { removeOnComplete: true, removeOnFail: 100 });
    return targets;
  }

  async reports(): Promise<ScrubNodeReport[]> {
    await this.cluster.ring.ready();
    await this.refreshNodeBytes();
    const now = Date.now();
    const out: ScrubNodeReport[] = [];
    for (const node of this.cluster.ring.nodes()) {
      const state = (await this.load(node.nodeId)) ?? initialScrubState(node.nodeId, now);
      out.push(this.report(state, now));
    }
    return out;
  }

  status(): WorkerStatus {
    const states = [...this.known.values()];
    const now = Date.now();
    const reports = states.map((s) => this.report(s, now));
    const doneBytes = reports.reduce((a, r) => a + r.progress.doneBytes, 0);
    const totalBytes = reports.reduce((a, r) => a + r.progress.totalBytes, 0);
    const eta = reports.reduce<number | null>((a, r) => (r.progress.etaSeconds === null ? a : Math.max(a ?? 0, r.progress.etaSeconds)), null);
    return {
      name: this.name,
      state: this.active > 0 ? 'running' : 'idle',
      runs: this.runs,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: { doneBytes, totalBytes, etaSeconds: eta, detail: `${reports.filter((r) => r.urgent).length} nodes scrubbing now` },
    };
  }

  private async tick(): Promise<void> {
    this.active++;
    try {
      await this.cluster.ring.ready();
      await this.refreshNodeBytes();
      await Promise.all(this.cluster.ring.nodes().map((n) => this.stepNode(n.nodeId)));
      this.runs++;
    } finally {
      this.active--;
    }
  }

  private async stepNode(nodeId: string): Promise<void> {
    const lockTtlMs = this.config.CAIRN_SCRUB_TICK_MS * TICK_LOCK_FACTOR;
    if (!(await this.state.tryLock(`scrub:${nodeId}`, this.identity.instance, lockTtlMs))) return;
    try {
      let state = (await this.load(nodeId)) ?? initialScrubState(nodeId, Date.now());
      if (!passIsDue(state, this.config.CAIRN_SCRUB_PERIOD_MS, Date.now())) return;
      if (state.current.verifiedChunks === 0 && state.current.cursor === '' && state.previous !== null) {
        // A pass that waited for its period starts its clock now, not when the previous one ended.
        state = { ...state, current: newPass(Date.now()) };
      }
      const pace = this.paceOf(state);
      let budgetBytes = Math.max(1, Math.floor((pace * this.config.CAIRN_SCRUB_TICK_MS) / 1000));
      while (budgetBytes > 0) {
        const page = await this.cluster.nodes.verify(nodeId, { after: state.current.cursor, limit: SCRUB_STEP_MAX_CHUNKS, maxBytes: Math.min(budgetBytes, SCRUB_STEP_MAX_BYTES) });
        for (const hash of page.corrupt) {
          this.logger.error(`scrub found ${hash} corrupt on ${nodeId}; queued for repair`);
          await this.repairs.enqueue({ hash: hash as ContentHash, nodeId, reason: 'scrub: corrupt' });
        }
        const finished = page.nextAfter === null;
        state = advanceScrub(state, { verifiedCount: page.verifiedCount, verifiedBytes: page.verifiedBytes, corruptCount: page.corrupt.length, nextAfter: page.nextAfter }, Date.now());
        await this.save(state);
        budgetBytes -= Math.max(1, page.verifiedBytes);
        if (finished) {
          this.logger.log(`scrub pass of ${nodeId} done: ${state.previous?.verifiedChunks} chunks, ${state.previous?.corruptFound} corrupt`);
          break;
        }
      }
    } catch (error) {
      this.lastError = { message: `${nodeId}: ${describeError(error)}`, at: new Date().toISOString() };
    } finally {
      await this.state.unlock(`scrub:${nodeId}`, this.identity.instance);
    }
  }

  private paceOf(state: ScrubNodeState): number {
    return scrubRateBytesPerSecond(
      this.bytesOf(state),
      this.config.CAIRN_SCRUB_PERIOD_MS,
      this.config.CAIRN_SCRUB_MIN_BYTES_PER_SECOND,
      this.config.CAIRN_SCRUB_MAX_BYTES_PER_SECOND,
      state.urgent,
    );
  }

  /** The node's bytes as the last sweep listed them, else as the last scrub pass verified them. */
  private bytesOf(state: ScrubNodeState): number {
    return this.nodeBytes.get(state.nodeId) ?? state.previous?.verifiedBytes ?? 0;
  }

  private report(state: ScrubNodeState, nowMs: number): ScrubNodeReport {
    const nodeBytes = Math.max(this.bytesOf(state), state.current.verifiedBytes);
    const windowMs = this.config.CAIRN_SCRUB_COVERAGE_WINDOW_MS;
    const coverage = scrubCoverage(state, nodeBytes, windowMs, nowMs);
    const progress = reportProgress({ doneItems: state.current.verifiedChunks, totalItems: 0, doneBytes: state.current.verifiedBytes, totalBytes: nodeBytes }, state.current.startedAtMs, nowMs);
    return {
      nodeId: state.nodeId,
      urgent: state.urgent,
      corruptFoundTotal: state.corruptFoundTotal ?? 0,
      pass: { startedAt: new Date(state.current.startedAtMs).toISOString(), cursor: state.current.cursor, verifiedChunks: state.current.verifiedChunks, corruptFound: state.current.corruptFound },
      previousPass: state.previous
        ? {
            startedAt: new Date(state.previous.startedAtMs).toISOString(),
            finishedAt: state.previous.finishedAtMs === null ? null : new Date(state.previous.finishedAtMs).toISOString(),
            verifiedBytes: state.previous.verifiedBytes,
            verifiedChunks: state.previous.verifiedChunks,
            corruptFound: state.previous.corruptFound,
          }
        : null,
      paceBytesPerSecond: this.paceOf(state),
      progress,
      coverage: {
        ...coverage,
        windowDays: windowMs / 86_400_000,
        oldestVerifiedAt: coverage.oldestVerifiedAtMs === null ? null : new Date(coverage.oldestVerifiedAtMs).toISOString(),
        oldestVerifiedAgeSeconds: coverage.oldestVerifiedAtMs === null ? null : (nowMs - coverage.oldestVerifiedAtMs) / 1000,
      },
    };
  }

  private async refreshNodeBytes(): Promise<void> {
    const last = await this.state.getJson<SweepReport>('sweep:last-complete');
    if (!last) return;
    this.nodeBytes = new Map(Object.entries(last.nodes).filter(([, n]) => n.listed).map(([id, n]) => [id, n.bytes]));
  }

  private async load(nodeId: string): Promise<ScrubNodeState | null> {
    const state = await this.state.getJson<ScrubNodeState>(`scrub:${nodeId}`);
    if (state) this.known.set(nodeId, state);
    return state;
  }

  private async save(state: ScrubNodeState): Promise<void> {
    this.known.set(state.nodeId, state);
    await this.state.setJson(`scrub:${state.nodeId}`, state);
  }

  private registerMetrics(): void {
    const registers = [this.metrics.registry];
    const collectEach = (gauge: Gauge<'node'>, value: (r: ScrubNodeReport) => number | null) => {
      const now = Date.now();
      gauge.reset();
      for (const state of this.known.values()) {
        const v = value(this.report(state, now));
        if (v !== null) gauge.set({ node: state.nodeId }, v);
      }
    };
    const coverage: Gauge<'node'> = new Gauge({
      name: 'cairn_scrub_coverage_ratio',
      help: 'Share of a node’s bytes verified by scrub within the coverage window',
      labelNames: ['node'],
      registers,
      collect: () => collectEach(coverage, (r) => r.coverage.coveredFraction),
    });
    const oldest: Gauge<'node'> = new Gauge({
      name: 'cairn_scrub_oldest_verification_age_seconds',
      help: 'Age of the least recently scrubbed chunk’s last verification (absent until a pass has finished)',
      labelNames: ['node'],
      registers,
      collect: () => collectEach(oldest, (r) => r.coverage.oldestVerifiedAgeSeconds),
    });
  }
}
