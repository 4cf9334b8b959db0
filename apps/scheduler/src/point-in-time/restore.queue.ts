import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { Gauge } from 'prom-client';
import { describeError } from '@cairn/chunk-client';
import { RpcClient } from '@cairn/messaging';
import {
  METADATA_SERVICE,
  MetadataRpc,
  type DeleteObjectReply,
  type DeleteObjectRequest,
  type PutObjectReply,
  type PutObjectRequest,
  type RestoreAction,
  type RestorePlanFromEventsReply,
  type RestorePlanFromEventsRequest,
  type RestorePlanReply,
  type RestorePlanRequest,
  type StorageClass,
  storedHashesOf,
} from '@cairn/protocol';
import { MetricsService, runPool, SERVICE_CONFIG, WorkerRegistry, type NamedWorker, type WorkerStatus } from '@cairn/service-kit';
import { BytePacer } from '../adapters/byte-pacer';
import { RegionChunks } from '../adapters/region-chunks';
import { BackupTargetsStore } from '../backup/backup-targets.store';
import type { BackupTarget } from '../backup/backup-target.port';
import { copyChunkBack } from '../backup/chunk-copy-back';
import { SchedulerQueues } from '../adapters/scheduler-queues';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { waitForMetaProjection } from '../adapters/meta-projection-wait';
import { METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import type { HistorySource } from '../domain/history-source';
import { reportProgress, type ProgressReport } from '../domain/job-progress';
import { durationMs, type SchedulerConfig } from '../scheduler.config';
import { SweepQueue } from '../sweep/sweep.queue';
import { BackupHistoryReader } from './backup-history.reader';
import { planAndApplyPages, type PageLimits } from './restore-pages';

export const RESTORE_QUEUE = 'restore';
/** Restore actions applied at once (each a chunk check and a metadata write). */
export const RESTORE_CONCURRENCY = 4;
export const RESTORE_PLAN_PAGE = 100;
/** Bytes of events one page of a restore from a backup sends to metadata at most (NATS' default max payload is 1 MiB). */
export const RESTORE_FROM_BACKUP_PAGE_BYTES = 384 * 1024;
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
  /** Absent in jobs queued before restores could read from a backup: the live log. */
  readonly source?: HistorySource;
}

/** Where the chunks a restore from a backup lacks in the region are copied back from. */
interface CopyBack {
  readonly target: BackupTarget;
  readonly pace: BytePacer;
  readonly signal: AbortSignal;
}

export interface RestoreReport extends RestoreRequest {
  readonly id: string;
  readonly state: 'queued' | 'running' | 'done' | 'failed';
  /** Where the bucket's history was read from: the live event log, or a backup (chooseHistorySource). */
  readonly source: HistorySource;
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
  /** Logical bytes of the versions put back; chunks still in the region are reused by hash. */
  readonly bytesRestored: number;
  readonly chunksReused: number;
  /** Chunks (and their bytes) copied back from the backup target because the region no longer held them. */
  readonly chunksCopied: number;
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
  private readonly pageLimits: PageLimits = { maxKeys: RESTORE_PLAN_PAGE, maxBytes: RESTORE_FROM_BACKUP_PAGE_BYTES };

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly rpc: RpcClient,
    private readonly chunks: RegionChunks,
    private readonly state: SchedulerStateStore,
    private readonly workers: WorkerRegistry,
    private readonly sweep: SweepQueue,
    private readonly metrics: MetricsService,
    private readonly history: BackupHistoryReader,
    private readonly targets: BackupTargetsStore,
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
    const source = await this.sourceFor(Date.parse(request.at));
    const id = `restore-${randomUUID()}`;
    const report = initialReport(id, request, source);
    await this.save(report);
    const recent = (await this.state.getJson<string[]>('restore:recent')) ?? [];
    await this.state.setJson('restore:recent', [id, ...recent].slice(0, RECENT_RESTORES_MAX));
    await this.queues.queue(RESTORE_QUEUE).add('restore', { ...request, id, queuedAt: report.queuedAt, source } satisfies RestoreJob, { jobId: id, attempts: 5, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: 100, removeOnFail: 100 });
    return report;
  }

  /**
   * The live log when it reaches the moment (whole, and the moment inside the restore window), else
   * the newest backup that does; InvalidArgument saying what can be restored when neither does.
   */
  async sourceFor(atMs: number): Promise<HistorySource> {
    return this.history.sourceFor(atMs, this.restoreWindowMs, RESTORE_WINDOW_MARGIN_MS, `CAIRN_RESTORE_WINDOW=${this.config.CAIRN_RESTORE_WINDOW}`);
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
    const { id, queuedAt, source = { kind: 'live' }, ...request } = job.data;
    const signal = this.queues.shutdownSignal;
    const run = new RestoreRun(id, request, source, queuedAt);
    this.current = run.report();
    let lastSaved = 0;
    const publish = async (force = false) => {
      this.current = run.report();
      if (!force && Date.now() - lastSaved < REPORT_EVERY_MS) return;
      lastSaved = Date.now();
      await this.save(this.current);
    };
    try {
      if (source.kind === 'backup') await this.restoreFromBackup(request, source, run, publish, signal);
      else await this.restoreFromLiveLog(request, run, publish, signal);
      // Done means a listing shows it: metadata's projection has applied every write made here.
      if (run.lastWrittenSequence > 0) await waitForMetaProjection(this.rpc, run.lastWrittenSequence, signal, this.logger);
      run.finish();
      this.runs++;
      const done = run.report();
      const from = source.kind === 'backup' ? `backup ${source.backupId} of ${source.target}` : 'the live log';
      this.logger.log(`restore ${id}: ${request.bucket} → ${request.to ?? request.bucket} as of ${request.at} from ${from}: ${done.puts} put back, ${done.deletes} deleted, ${done.chunksCopied} chunks copied back, ${done.failures} failed`);
      return done;
    } catch (error) {
      run.fail(describeError(error));
      this.lastError = { message: describeError(error), at: new Date().toISOString() };
      throw error;
    } finally {
      await publish(true);
      this.current = null;
    }
  }

  private async restoreFromLiveLog(request: RestoreRequest, run: RestoreRun, publish: () => Promise<void>, signal: AbortSignal): Promise<void> {
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
  }

  /**
   * The bucket's history from a backup (and the live log after its cut, for a later moment): read
   * by the scheduler, folded by metadata a key range at a time (restorePlanFromEvents); chunks the
   * region no longer holds are copied back from the target before the version that needs them is
   * written.
   */
  private async restoreFromBackup(request: RestoreRequest, source: Extract<HistorySource, { kind: 'backup' }>, run: RestoreRun, publish: () => Promise<void>, signal: AbortSignal): Promise<void> {
    const target = await this.targets.open(source.target);
    try {
      const manifest = await this.history.manifest(target, source.backupId);
      const copyBack: CopyBack = { target, pace: new BytePacer((await this.targets.view(source.target)).bytesPerSecond), signal };
      // Metadata finds the target's keys of each page in its read model: it must hold every write made before the restore began.
      await waitForMetaProjection(this.rpc, await this.history.liveLastSequence(), signal, this.logger);
      const history = await this.history.readBucket(target, manifest, source, request.bucket, request.prefix ?? '', Date.parse(request.at), signal);
      try {
        await planAndApplyPages(history, this.pageLimits, signal, async (page) => {
          const planRequest: RestorePlanFromEventsRequest = {
            bucket: request.bucket,
            at: request.at,
            ...(request.prefix ? { prefix: request.prefix } : {}),
            ...(request.to ? { to: request.to } : {}),
            bucketEvents: history.bucketEvents,
            keys: page.keys,
            after: page.after,
            through: page.through,
          };
          const reply = await this.rpc.request<RestorePlanFromEventsReply>(METADATA_SERVICE, MetadataRpc.restorePlanFromEvents, planRequest, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
          await runPool(reply.actions, RESTORE_CONCURRENCY, signal, async (action) => {
            await this.apply(action, request, run, copyBack);
            await publish();
          });
          run.scanned(reply.scannedKeys);
          await publish();
        }, (totalKeys) => run.planned(totalKeys));
        const held = history.held();
        this.logger.log(`restore of ${request.bucket} from backup ${source.backupId}: ${history.eventsRead} events read, ${(history.spilledBytes / 1048576).toFixed(1)} MiB of key events spilled, at most ${held.peakKeys} keys and ${(held.peakEventBytes / 1024).toFixed(0)} KiB of their events held at once`);
      } finally {
        await history.close();
      }
    } finally {
      await target.close();
    }
  }

  private async apply(action: RestoreAction, request: RestoreRequest, run: RestoreRun, copyBack?: CopyBack): Promise<void> {
    const bucket = request.to ?? request.bucket;
    try {
      if (action.kind === 'delete') {
        const del: DeleteObjectRequest = { bucket, key: action.key };
        const deleted = await this.rpc.request<DeleteObjectReply>(METADATA_SERVICE, MetadataRpc.deleteObject, del, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
        run.deleted(deleted.sequence);
        return;
      }
      const v = action.version;
      const stored = v.chunks.filter((c) => c.inline === undefined);
      const present = await Promise.all(stored.map((c) => this.chunks.present(c)));
      const missing = stored.filter((_, i) => !present[i]);
      if (missing.length > 0 && !copyBack) {
        run.failed(`${action.key}: ${missing.length} of its chunks are gone (older than the restore window?), e.g. ${missing[0].hash}`);
        return;
      }
      if (copyBack) {
        for (const chunk of missing) {
          const shardSize = (chunk as { readonly erasure?: { readonly shardSizeBytes: number } }).erasure?.shardSizeBytes;
          for (const hash of storedHashesOf(chunk)) {
            const size = shardSize ?? chunk.sizeBytes;
            if ((await copyChunkBack(this.chunks, copyBack.target, hash, size, copyBack.pace, copyBack.signal)) === 'copied') run.copied(size);
          }
        }
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
      const written = await this.rpc.request<PutObjectReply>(METADATA_SERVICE, MetadataRpc.putObject, put, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
      run.put(v.sizeBytes, stored.length - missing.length, written.sequence);
    } catch (error) {
      run.failed(`${action.key}: ${describeError(error)}`);
    }
  }

  private async save(report: RestoreReport): Promise<void> {
    await this.state.setJson(`restore:${report.id}`, report);
  }
}

function initialReport(id: string, request: RestoreRequest, source: HistorySource): RestoreReport {
  return new RestoreRun(id, request, source, new Date().toISOString(), 'queued').report();
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
  private chunksCopied = 0;
  private bytesCopied = 0;
  private failures = 0;
  private readonly failureSample: string[] = [];
  private readonly queuedAt: string;
  private lastSequence = 0;

  constructor(
    private readonly id: string,
    private readonly request: RestoreRequest,
    private readonly source: HistorySource,
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

  /** The last META sequence this restore wrote at: it is done once listings show it. */
  get lastWrittenSequence(): number {
    return this.lastSequence;
  }

  put(sizeBytes: number, chunks: number, sequence: number): void {
    this.lastSequence = Math.max(this.lastSequence, sequence);
    this.puts++;
    this.bytesRestored += sizeBytes;
    this.chunksReused += chunks;
  }

  copied(bytes: number): void {
    this.chunksCopied++;
    this.bytesCopied += bytes;
  }

  deleted(sequence: number): void {
    this.lastSequence = Math.max(this.lastSequence, sequence);
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
      source: this.source,
      queuedAt: this.queuedAt,
      ...(this.state === 'queued' ? {} : { startedAt: new Date(this.startedAtMs).toISOString() }),
      ...(this.finishedAtMs ? { finishedAt: new Date(this.finishedAtMs).toISOString() } : {}),
      ...(this.error ? { error: this.error } : {}),
      progress: reportProgress({ doneItems: this.scannedKeys, totalItems: this.totalKeys, doneBytes: 0, totalBytes: 0 }, this.startedAtMs, now),
      puts: this.puts,
      deletes: this.deletes,
      bytesRestored: this.bytesRestored,
      chunksReused: this.chunksReused,
      chunksCopied: this.chunksCopied,
      bytesCopied: this.bytesCopied,
      failures: this.failures,
      failureSample: [...this.failureSample],
    };
  }
}

