import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { Gauge } from 'prom-client';
import { describeError } from '@cairn/chunk-client';
import { RpcClient } from '@cairn/messaging';
import {
  CairnError,
  METADATA_SERVICE,
  MetadataRpc,
  type DeleteObjectRequest,
  type PutObjectRequest,
  type RestoreAction,
  type RestorePlanReply,
  type RestorePlanRequest,
  type StorageClass,
} from '@cairn/protocol';
import { MetricsService, SERVICE_CONFIG, WorkerRegistry, type NamedWorker, type WorkerStatus } from '@cairn/service-kit';
import { RegionChunks } from '../adapters/region-chunks';
import { SchedulerQueues } from '../adapters/scheduler-queues';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import { reportProgress, type ProgressReport } from '../domain/job-progress';
import { durationMs, type SchedulerConfig } from '../scheduler.config';
import { SweepQueue } from '../sweep/sweep.queue';

export const RESTORE_QUEUE = 'restore';
/** Restore actions applied at once (each a chunk check and a metadata write). */
export const RESTORE_CONCURRENCY = 4;
export const RESTORE_PLAN_PAGE = 100;
/**
 * A moment restored must lie this far inside the restore window: a chunk it references was released
 * no earlier than the moment, so garbage collection keeps it until at least the moment plus the
 * window — for this long after the restore starts, whatever the sweep does meanwhile.
 */
export const RESTORE_WINDOW_MARGIN_MS = 3_600_000;
const RESTORE_JOB_LOCK_MS = 30_000;
const FAILURE_SAMPLE_MAX = 20;
const RECENT_RESTORES_MAX = 20;
const REPORT_EVERY_MS = 500;

export interface RestoreRequest {
  readonly bucket: string;
  /** ISO instant. */
  readonly at: string;
  readonly prefix?: string;
  readonly to?: string;
}

interface RestoreJob extends RestoreRequest {
  readonly id: string;
  readonly queuedAt: string;
}

export interface RestoreReport extends RestoreRequest {
  readonly id: string;
  readonly state: 'queued' | 'running' | 'done' | 'failed';
  readonly queuedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly error?: string;
  /** Keys under the prefix the plan looks at, and how far it has got. */
  readonly progress: ProgressReport;
  /** New versions written with the old content. */
  readonly puts: number;
  /** Keys deleted (a delete marker in a versioned bucket) because they did not exist then. */
  readonly deletes: number;
  /** Logical bytes of the versions put back; none of them copied: chunks are reused by hash. */
  readonly bytesRestored: number;
  readonly chunksReused: number;
  readonly bytesCopied: number;
  readonly failures: number;
  readonly failureSample: readonly string[];
}

/**
 * Point-in-time restore as a scheduler job (docs/backups.md): metadata plans, a page of keys at a
 * time, what bringing the bucket (or prefix) back to the moment takes — for each key whose state
 * then differs from now, a put of the old content or a delete — and the job applies it through
 * metadata's ordinary writes. History is never rewritten: the old content comes back as a new
 * version, reusing its chunks by hash (nothing is copied) once a node is seen holding each.
 *
 * Only moments at least RESTORE_WINDOW_MARGIN_MS inside the restore window are taken: garbage
 * collection keeps every chunk such a moment referenced for at least that long after the restore
 * starts, so none is deleted between the check that it is there and the write that references
 * it again. Re-running
 * a restore (after a crash: BullMQ hands the stalled job on) finds the keys already restored
 * equal to the moment and leaves them be.
 */
@Injectable()
export class RestoreQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'restore';
  private readonly logger = new Logger('RestoreQueue');
  private current: RestoreReport | null = null;
  private runs = 0;
  private lastError?: { message: string; at: string };

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly rpc: RpcClient,
    private readonly chunks: RegionChunks,
    private readonly state: SchedulerStateStore,
    private readonly workers: WorkerRegistry,
    private readonly sweep: SweepQueue,
    private readonly metrics: MetricsService,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.workers.register(this);
    const registers = [this.metrics.registry];
    const retained: Gauge = new Gauge({
      name: 'cairn_gc_restore_window_retained_bytes',
      help: 'Bytes on storage nodes that garbage collection keeps only because a moment within the restore window (CAIRN_RESTORE_WINDOW) still referenced them, as the last complete sweep found',
      registers,
      collect: async () => {
        const { lastComplete } = await this.sweep.reports();
        retained.set(lastComplete?.restoreWindow?.retainedBytes ?? 0);
      },
    });
    new Gauge({ name: 'cairn_restore_window_seconds', help: 'How far back point-in-time restore reaches (CAIRN_RESTORE_WINDOW)', registers }).set(this.restoreWindowMs / 1000);
    this.queues.worker<RestoreJob>(RESTORE_QUEUE, (job) => this.process(job), {
      concurrency: 1,
      lockDuration: RESTORE_JOB_LOCK_MS,
      stalledInterval: RESTORE_JOB_LOCK_MS,
    });
  }

  get restoreWindowMs(): number {
    return durationMs(this.config.CAIRN_RESTORE_WINDOW);
  }

  async request(request: RestoreRequest): Promise<RestoreReport> {
    const atMs = Date.parse(request.at);
    const oldestMs = Date.now() - this.restoreWindowMs + RESTORE_WINDOW_MARGIN_MS;
    if (atMs > Date.now()) throw new CairnError('InvalidArgument', `${request.at} is in the future`);
    if (atMs < oldestMs) {
      throw new CairnError(
        'InvalidArgument',
        `${request.at} is older than the restore window allows (CAIRN_RESTORE_WINDOW=${this.config.CAIRN_RESTORE_WINDOW}, less ${RESTORE_WINDOW_MARGIN_MS / 60_000} minutes): the oldest moment is ${new Date(oldestMs).toISOString()}`,
      );
    }
    const id = `restore-${randomUUID()}`;
    const report = initialReport(id, request);
    await this.save(report);
    const recent = (await this.state.getJson<string[]>('restore:recent')) ?? [];
    await this.state.setJson('restore:recent', [id, ...recent].slice(0, RECENT_RESTORES_MAX));
    await this.queues.queue(RESTORE_QUEUE).add('restore', { ...request, id, queuedAt: report.queuedAt }, { jobId: id, attempts: 5, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: 100, removeOnFail: 100 });
    return report;
  }

  async report(id: string): Promise<RestoreReport | null> {
    if (this.current?.id === id) return this.current;
    return this.state.getJson<RestoreReport>(`restore:${id}`);
  }

  async recent(): Promise<RestoreReport[]> {
    const ids = (await this.state.getJson<string[]>('restore:recent')) ?? [];
    const reports = await Promise.all(ids.map((id) => this.report(id)));
    return reports.filter((r): r is RestoreReport => r !== null);
  }

  status(): WorkerStatus {
    const running = this.current;
    return {
      name: this.name,
      state: running ? 'running' : this.lastError ? 'failed' : 'idle',
      runs: this.runs,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      ...(running
        ? { progress: { doneItems: running.progress.doneItems, totalItems: running.progress.totalItems, etaSeconds: running.progress.etaSeconds ?? undefined, detail: `${running.bucket} → ${running.to ?? running.bucket} as of ${running.at}` } }
        : {}),
    };
  }

  private async process(job: Job<RestoreJob>): Promise<RestoreReport> {
    const { id, queuedAt, ...request } = job.data;
    const signal = this.queues.shutdownSignal;
    const run = new RestoreRun(id, request, queuedAt);
    this.current = run.report();
    let lastSaved = 0;
    const publish = async (force = false) => {
      this.current = run.report();
      if (!force && Date.now() - lastSaved < REPORT_EVERY_MS) return;
      lastSaved = Date.now();
      await this.save(this.current);
    };
    try {
      let after: string | undefined;
      let snapshot: number | undefined;
      for (;;) {
        signal.throwIfAborted();
        const planRequest: RestorePlanRequest = { ...request, limit: RESTORE_PLAN_PAGE, ...(after ? { after } : {}), ...(snapshot ? { snapshot } : {}) };
        const page = await this.rpc.request<RestorePlanReply>(METADATA_SERVICE, MetadataRpc.restorePlan, planRequest, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
        snapshot = page.snapshot;
        run.planned(page.totalKeys);
        await runPool(page.actions, RESTORE_CONCURRENCY, signal, async (action) => {
          await this.apply(action, request, run);
          await publish();
        });
        run.scanned(page.scannedKeys);
        await publish();
        if (!page.nextAfter) break;
        after = page.nextAfter;
      }
      run.finish();
      this.runs++;
      this.logger.log(`restore ${id}: ${request.bucket} → ${request.to ?? request.bucket} as of ${request.at}: ${run.report().puts} put back, ${run.report().deletes} deleted, ${run.report().failures} failed`);
      return run.report();
    } catch (error) {
      run.fail(describeError(error));
      this.lastError = { message: describeError(error), at: new Date().toISOString() };
      throw error;
    } finally {
      await publish(true);
      this.current = null;
    }
  }

  private async apply(action: RestoreAction, request: RestoreRequest, run: RestoreRun): Promise<void> {
    const bucket = request.to ?? request.bucket;
    try {
      if (action.kind === 'delete') {
        const del: DeleteObjectRequest = { bucket, key: action.key };
        await this.rpc.request(METADATA_SERVICE, MetadataRpc.deleteObject, del, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
        run.deleted();
        return;
      }
      const v = action.version;
      const stored = v.chunks.filter((c) => c.inline === undefined);
      const present = await Promise.all(stored.map((c) => this.chunks.present(c)));
      const missing = stored.filter((_, i) => !present[i]);
      if (missing.length > 0) {
        run.failed(`${action.key}: ${missing.length} of its chunks are gone (older than the restore window?), e.g. ${missing[0].hash}`);
        return;
      }
      const put: PutObjectRequest = {
        bucket,
        key: action.key,
        sizeBytes: v.sizeBytes,
        etag: v.etag,
        checksums: v.checksums,
        ...(v.contentType === null ? {} : { contentType: v.contentType }),
        userMetadata: v.userMetadata,
        contentHeaders: v.contentHeaders,
        chunks: v.chunks,
        ...(v.storageClass === null ? {} : { storageClass: v.storageClass as StorageClass }),
        tags: v.tags,
      };
      await this.rpc.request(METADATA_SERVICE, MetadataRpc.putObject, put, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
      run.put(v.sizeBytes, stored.length);
    } catch (error) {
      run.failed(`${action.key}: ${describeError(error)}`);
    }
  }

  private async save(report: RestoreReport): Promise<void> {
    await this.state.setJson(`restore:${report.id}`, report);
  }
}

function initialReport(id: string, request: RestoreRequest): RestoreReport {
  return new RestoreRun(id, request, new Date().toISOString(), 'queued').report();
}

/** One run's counts and its report. */
class RestoreRun {
  private state: RestoreReport['state'];
  private readonly startedAtMs = Date.now();
  private finishedAtMs: number | null = null;
  private error?: string;
  private totalKeys = 0;
  private scannedKeys = 0;
  private puts = 0;
  private deletes = 0;
  private bytesRestored = 0;
  private chunksReused = 0;
  private failures = 0;
  private readonly failureSample: string[] = [];
  private readonly queuedAt: string;

  constructor(
    private readonly id: string,
    private readonly request: RestoreRequest,
    queuedAt?: string,
    state: RestoreReport['state'] = 'running',
  ) {
    this.state = state;
    this.queuedAt = queuedAt ?? new Date().toISOString();
  }

  planned(totalKeys: number): void {
    this.totalKeys = totalKeys;
  }

  scanned(keys: number): void {
    this.scannedKeys = Math.min(this.totalKeys, this.scannedKeys + keys);
  }

  put(sizeBytes: number, chunks: number): void {
    this.puts++;
    this.bytesRestored += sizeBytes;
    this.chunksReused += chunks;
  }

  deleted(): void {
    this.deletes++;
  }

  failed(message: string): void {
    this.failures++;
    if (this.failureSample.length < FAILURE_SAMPLE_MAX) this.failureSample.push(message);
  }

  finish(): void {
    this.scannedKeys = this.totalKeys;
    this.state = 'done';
    this.finishedAtMs = Date.now();
  }

  fail(error: string): void {
    this.state = 'failed';
    this.error = error;
    this.finishedAtMs = Date.now();
  }

  report(): RestoreReport {
    const now = this.finishedAtMs ?? Date.now();
    return {
      id: this.id,
      ...this.request,
      state: this.state,
      queuedAt: this.queuedAt,
      ...(this.state === 'queued' ? {} : { startedAt: new Date(this.startedAtMs).toISOString() }),
      ...(this.finishedAtMs ? { finishedAt: new Date(this.finishedAtMs).toISOString() } : {}),
      ...(this.error ? { error: this.error } : {}),
      progress: reportProgress({ doneItems: this.scannedKeys, totalItems: this.totalKeys, doneBytes: 0, totalBytes: 0 }, this.startedAtMs, now),
      puts: this.puts,
      deletes: this.deletes,
      bytesRestored: this.bytesRestored,
      chunksReused: this.chunksReused,
      bytesCopied: 0,
      failures: this.failures,
      failureSample: [...this.failureSample],
    };
  }
}

async function runPool<T>(items: readonly T[], concurrency: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      signal.throwIfAborted();
      await fn(items[next++]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
