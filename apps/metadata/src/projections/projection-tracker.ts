import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { StoredEvent } from '@cairn/eventing';
import { NatsConnectionManager } from '@cairn/messaging';
import { CairnError, ErrorCodes, METADATA_READ_WAIT_MAX_MS, type EventEnvelope, type ProjectionStreamStatus } from '@cairn/protocol';
import { abortable, HealthRegistry, IntervalWorker, MetricsService, SERVICE_IDENTITY, WorkerRegistry, type ServiceIdentity, type WorkerProgress } from '@cairn/service-kit';
import { Gauge } from 'prom-client';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { MetadataProjector, type ProjectOptions } from './metadata-projector';
import { ProjectionRebuild, type RebuildProgress } from './projection-rebuild';
import { AccessKeySecrets } from '../access-key/access-key-secrets';
import { CHECKPOINT_NAMES, PROJECTED_STREAMS, type ProjectedStream } from './projection-streams';
import { CheckpointListener } from './checkpoint-notifications';

/**
 * How often a query waiting for its minSequence re-reads the checkpoint row (another instance may
 * project) while checkpoint notifications are not heard (the listening connection is away).
 */
const CHECKPOINT_POLL_MS = 20;
/** The same while they are heard: only a fallback, in case one is lost. */
export const CHECKPOINT_FALLBACK_POLL_MS = 500;
/** How often the lag shown on /health is refreshed. */
const LAG_REFRESH_MS = 2_000;

/**
 * The projection side of the service: applies consumed events through one projector per stream,
 * answers "has the read model reached sequence N" for read-your-writes queries, measures lag
 * (stream last sequence − checkpoint) for /metrics and /health, and runs rebuilds.
 */
@Injectable()
export class ProjectionTracker implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MetadataProjection');
  private projectors: Record<ProjectedStream, MetadataProjector> | undefined;
  /** Highest checkpoint seen per stream (by this instance's projectors or its reads). */
  private readonly known: Record<ProjectedStream, number> = { META: 0, CLUSTER: 0 };
  private lastStatus: readonly ProjectionStreamStatus[] = [];
  private readonly lagRefresh = new IntervalWorker('metadata-projection-lag', LAG_REFRESH_MS, (signal) => this.refreshLag(signal), { logger: this.logger });
  private rebuildProgress: RebuildProgress = { state: 'idle', startedAt: null, finishedAt: null, durationMs: null, streams: {}, error: null };
  private readonly rebuild: Promise<ProjectionRebuild>;
  /** Hears every instance's checkpoint commits (LISTEN/NOTIFY), so waiters wake on them. */
  private listener: CheckpointListener | undefined;
  private destroyed = false;
  /** The poll interval of waiters while notifications are heard (tests raise it to prove they wake on them). */
  checkpointFallbackPollMs = CHECKPOINT_FALLBACK_POLL_MS;

  constructor(
    private readonly readModel: MetadataReadModel,
    private readonly nats: NatsConnectionManager,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    private readonly accessKeySecrets: AccessKeySecrets,
  ) {
    this.rebuild = this.readModel.dataSource().then((ds) => new ProjectionRebuild(ds, this.nats, this.identity.namespace, this.accessKeySecrets));
    this.rebuild.catch(() => undefined);
  }

  onModuleInit(): void {
    const lagOf = () => this.status().catch(() => this.lastStatus);
    const known = this.known;
    new Gauge({
      name: 'cairn_metadata_projection_lag_events',
      help: 'Events in the stream not yet applied to the Postgres projection (stream last sequence − checkpoint)',
      labelNames: ['stream'],
      registers: [this.metrics.registry],
      async collect() {
        for (const s of await lagOf()) this.set({ stream: s.stream }, s.lag);
      },
    });
    new Gauge({
      name: 'cairn_metadata_projection_checkpoint',
      help: 'Last stream sequence the Postgres projection committed',
      labelNames: ['stream'],
      registers: [this.metrics.registry],
      collect() {
        for (const stream of PROJECTED_STREAMS) this.set({ stream }, known[stream]);
      },
    });
    this.health.registerInfo('projection', () => ({ streams: this.lastStatus, rebuild: this.rebuildProgress.state }));
    this.workers.register(this.lagRefresh);
    this.lagRefresh.start();
    this.readModel
      .dataSource()
      .then((ds) => {
        if (this.destroyed) return;
        this.listener = new CheckpointListener(ds, {
          committed: (projection, sequence) => {
            const stream = PROJECTED_STREAMS.find((s) => CHECKPOINT_NAMES[s] === projection);
            if (stream) this.advance(stream, sequence);
          },
          // Notifications sent while it was away are lost: read the rows once.
          listening: () => {
            for (const stream of PROJECTED_STREAMS) this.checkpoint(stream).catch(() => undefined);
          },
        });
        this.listener.start();
      })
      .catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    await this.listener?.close();
    await this.lagRefresh.stop();
    this.workers.unregister(this.lagRefresh.name);
  }

  /** The highest checkpoint of `stream` this instance knows committed (its own commits, notifications, reads). */
  committed(stream: ProjectedStream): number {
    return this.known[stream];
  }

  /** Other instances' checkpoint commits are heard now (the listening connection is up). */
  get hearsCommits(): boolean {
    return this.listener?.live ?? false;
  }

  /** How long a waiter may sleep before re-reading the checkpoint row itself. */
  pollIntervalMs(notListeningMs: number): number {
    return this.hearsCommits ? this.checkpointFallbackPollMs : notListeningMs;
  }

  /**
   * Calls `listener` at the next advance of this instance's known checkpoint of `stream` (its own
   * commit, another instance's heard, or a read); answers the unsubscribe.
   */
  onAdvance(stream: ProjectedStream, listener: () => void): () => void {
    const waiters = this.advanceWaiters[stream];
    waiters.add(listener);
    return () => waiters.delete(listener);
  }

  /** Progress is events projected of events in the streams, both streams together. */
  private async refreshLag(signal: AbortSignal): Promise<WorkerProgress> {
    // While Postgres is away status() waits for it; shutdown must not.
    const streams = await abortable(this.status(), signal);
    return {
      doneItems: streams.reduce((sum, s) => sum + s.checkpoint, 0),
      totalItems: streams.reduce((sum, s) => sum + s.lastSequence, 0),
      detail: streams.map((s) => `${s.stream} lag ${s.lag}`).join(', '),
    };
  }

  /** Applies one consumed event; resolves once its transaction (rows + checkpoint) committed. */
  async project(stream: ProjectedStream, envelope: EventEnvelope, sequence: number): Promise<void> {
    const projector = await this.projectorFor(stream);
    const stored: StoredEvent = { envelope, sequence };
    const result = await projector.project([stored]);
    this.advance(stream, result.checkpoint);
  }

  /** Applies a batch of one stream in one transaction (see MetadataProjector.project). */
  async projectBatch(stream: ProjectedStream, events: readonly StoredEvent[], options: ProjectOptions = {}): Promise<number> {
    const result = await (await this.projectorFor(stream)).project(events, options);
    this.advance(stream, result.checkpoint);
    return result.checkpoint;
  }

  /** Steps the checkpoint over one parked event (only if it is the next one). */
  async skip(stream: ProjectedStream, sequence: number): Promise<void> {
    if (await (await this.projectorFor(stream)).skip(sequence)) this.advance(stream, sequence);
  }

  async checkpoint(stream: ProjectedStream): Promise<number> {
    const checkpoint = await (await this.projectorFor(stream)).checkpoint();
    this.advance(stream, checkpoint);
    return checkpoint;
  }

  /** Read-your-writes: resolves once the projection of `stream` has committed `sequence`; TIMEOUT past the bound. */
  async waitFor(stream: ProjectedStream, sequence: number | undefined, timeoutMs = METADATA_READ_WAIT_MAX_MS): Promise<void> {
    if (sequence === undefined || sequence === null) return;
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw new CairnError(ErrorCodes.InvalidCommand, `minSequence ${sequence} is not a stream sequence`);
    if (this.known[stream] >= sequence) return;
    const deadline = Date.now() + timeoutMs;
    // Woken at once when this instance's projector commits or another instance's commit is heard;
    // the checkpoint row is polled as well (slowly while notifications are heard).
    while ((await this.checkpoint(stream)) < sequence) {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new CairnError(ErrorCodes.Timeout, `the ${stream} projection did not reach sequence ${sequence} within ${timeoutMs} ms (at ${this.known[stream]})`);
        }
        const advanced = await this.nextAdvance(stream, Math.min(left, this.pollIntervalMs(CHECKPOINT_POLL_MS)));
        if (this.known[stream] >= sequence) return;
        // Advanced, not far enough: wait for the next one; timed out: read the row.
        if (!advanced) break;
      }
    }
  }

  private readonly advanceWaiters: Record<ProjectedStream, Set<() => void>> = { META: new Set(), CLUSTER: new Set() };

  /** Resolves true when this instance's known checkpoint of `stream` advances, false after `timeoutMs`. */
  private nextAdvance(stream: ProjectedStream, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiters = this.advanceWaiters[stream];
      const done = (advanced: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(advanced);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      waiters.add(wake);
    });
  }

  /** The stream's last sequence (of what its projector reads) now: everything acknowledged so far is at or below it. */
  async lastSequence(stream: ProjectedStream): Promise<number> {
    return (await this.rebuild).lastSequence(stream);
  }

  async status(): Promise<readonly ProjectionStreamStatus[]> {
    const rebuild = await this.rebuild;
    const streams: ProjectionStreamStatus[] = [];
    for (const stream of PROJECTED_STREAMS) {
      const [checkpoint, lastSequence] = await Promise.all([this.checkpoint(stream), rebuild.lastSequence(stream)]);
      streams.push({ stream, checkpoint, lastSequence, lag: Math.max(0, lastSequence - checkpoint) });
    }
    this.lastStatus = streams;
    return streams;
  }

  rebuildStatus(): RebuildProgress {
    return this.rebuildProgress;
  }

  /** Starts a rebuild (one at a time per instance); resolves with its final progress. */
  startRebuild(): { readonly started: boolean; readonly done: Promise<RebuildProgress> } {
    if (this.rebuildProgress.state === 'running') return { started: false, done: Promise.resolve(this.rebuildProgress) };
    const started = Date.now();
    this.rebuildProgress = { state: 'running', startedAt: new Date(started).toISOString(), finishedAt: null, durationMs: null, streams: {}, error: null };
    const done = (async () => {
      try {
        const rebuild = await this.rebuild;
        const streams = await rebuild.run((stream, progress) => {
          this.rebuildProgress = { ...this.rebuildProgress, streams: { ...this.rebuildProgress.streams, [stream]: progress } };
        });
        this.known.META = streams.META.checkpoint;
        this.known.CLUSTER = streams.CLUSTER.checkpoint;
        this.rebuildProgress = { ...this.rebuildProgress, state: 'done', streams, finishedAt: new Date().toISOString(), durationMs: Date.now() - started };
      } catch (error) {
        this.logger.error(`rebuild failed: ${String(error)}`);
        this.rebuildProgress = { ...this.rebuildProgress, state: 'failed', error: String(error), finishedAt: new Date().toISOString(), durationMs: Date.now() - started };
      }
      return this.rebuildProgress;
    })();
    return { started: true, done };
  }

  private advance(stream: ProjectedStream, checkpoint: number): void {
    // A rebuild resets checkpoints, then restores them; never go backwards in what readers wait on.
    if (checkpoint > this.known[stream]) {
      this.known[stream] = checkpoint;
      for (const wake of [...this.advanceWaiters[stream]]) wake();
    }
  }

  private async projectorFor(stream: ProjectedStream): Promise<MetadataProjector> {
    if (!this.projectors) {
      const ds = await this.readModel.dataSource();
      this.projectors = {
        META: new MetadataProjector(ds, { checkpointName: CHECKPOINT_NAMES.META, accessKeySecrets: this.accessKeySecrets }),
        CLUSTER: new MetadataProjector(ds, { checkpointName: CHECKPOINT_NAMES.CLUSTER, accessKeySecrets: this.accessKeySecrets }),
      };
    }
    return this.projectors[stream];
  }
}
