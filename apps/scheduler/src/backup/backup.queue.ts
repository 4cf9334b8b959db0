import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { describeError } from '@cairn/chunk-client';
import { LockClient } from '@cairn/lock-client';
import { CairnError, LockWireErrorCodes } from '@cairn/protocol';
import { abortable, WorkerRegistry, type NamedWorker, type WorkerStatus } from '@cairn/service-kit';
import { BytePacer } from '../adapters/byte-pacer';
import { SchedulerQueues } from '../adapters/scheduler-queues';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { BackupKeys, backupsToPrune, type BackupManifest } from './backup-format';
import { BackupErrorCodes, BackupTargetsStore, type BackupSchedule } from './backup-targets.store';
import { verifyBackup, type VerifyReport } from './backup-verify';
import { BackupRunner, readManifests, type BackupReport } from './backup.runner';
import { RegionRestoreRunner, type RegionRestoreReport } from './region-restore.runner';
import { sweepTargetChunks } from './target-chunk-sweep';

export const BACKUP_QUEUE = 'backup';
export const REGION_RESTORE_QUEUE = 'region-restore';
/** A backup job whose worker died is handed on after this (BullMQ's stalled check): the next run resumes it. */
export const BACKUP_JOB_LOCK_MS = 15_000;
export const BACKUP_LEASE_TTL_MS = 15_000;
const RUNS_KEPT = 50;
const REPORT_EVERY_MS = 500;

interface RegionRestoreJob {
  readonly id: string;
  readonly target: string;
  readonly backupId?: string;
}

interface BackupJob {
  readonly target: string;
  readonly trigger: string;
}

/**
 * Backups as scheduler jobs: on demand and on each target's schedule (BullMQ job schedulers), one
 * at a time per target (a lock-manager lease), paced at the target's bytes per second. After a
 * scheduled backup, complete backups beyond the target's `keep` are pruned (their manifests and
 * configuration; segments are shared by later backups and stay), then the target's chunks that no
 * surviving backup needs are swept (target-chunk-sweep.ts).
 */
@Injectable()
export class BackupQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'backup';
  private readonly logger = new Logger('BackupQueue');
  private current: BackupReport | null = null;
  private completed = 0;
  private lastError?: { message: string; at: string };

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly runner: BackupRunner,
    private readonly regionRestore: RegionRestoreRunner,
    private readonly targets: BackupTargetsStore,
    private readonly locks: LockClient,
    private readonly state: SchedulerStateStore,
    private readonly workers: WorkerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.workers.register(this);
    this.queues.worker<BackupJob>(BACKUP_QUEUE, (job) => this.process(job), { concurrency: 1, lockDuration: BACKUP_JOB_LOCK_MS, stalledInterval: BACKUP_JOB_LOCK_MS, maxStalledCount: 5 });
    this.queues.worker<RegionRestoreJob>(REGION_RESTORE_QUEUE, (job) => this.processRegionRestore(job), { concurrency: 1, lockDuration: BACKUP_JOB_LOCK_MS, stalledInterval: BACKUP_JOB_LOCK_MS, maxStalledCount: 5 });
    for (const target of await this.targets.list().catch(() => [])) await this.schedule(target.name, target.schedule).catch(() => undefined);
  }

  /** Restores this (empty) region from a backup (default the target's latest): a job; its report under `id`. */
  async requestRegionRestore(target: string, backupId: string | undefined): Promise<{ id: string }> {
    await this.targets.view(target);
    const id = `region-restore-${randomUUID()}`;
    await this.queues.queue(REGION_RESTORE_QUEUE).add('region-restore', { id, target, ...(backupId ? { backupId } : {}) }, { jobId: id, attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: 100, removeOnFail: 100 });
    return { id };
  }

  async regionRestoreReport(id: string): Promise<RegionRestoreReport | null> {
    return this.state.getJson<RegionRestoreReport>(`region-restore:${id}`);
  }

  private async processRegionRestore(job: Job<RegionRestoreJob>): Promise<RegionRestoreReport> {
    const { id, target: targetName, backupId } = job.data;
    // Chunks written before the events that reference them are fresh writes: the sweep leaves a chunk
    // written within the GC retention alone (docs/backups.md), so no lease is needed against it.
    const stored = await this.targets.view(targetName);
    const target = await this.targets.open(targetName);
    const signal = this.queues.shutdownSignal;
    let last = null as RegionRestoreReport | null;
    try {
      const manifests = await readManifests(target);
      const manifest = backupId ? manifests.find((m) => m.id === backupId) : manifests.at(-1);
      if (!manifest) throw new CairnError(BackupErrorCodes.NoSuchBackup, `no complete backup ${backupId ?? ''} in ${targetName}`, { target: targetName });
      let lastSaved = 0;
      return await this.regionRestore.run(id, targetName, target, manifest, new BytePacer(stored.bytesPerSecond), signal, async (report) => {
        last = report;
        if (Date.now() - lastSaved < REPORT_EVERY_MS) return;
        lastSaved = Date.now();
        await this.state.setJson(`region-restore:${id}`, report);
      }).then(async (report) => {
        last = report;
        return report;
      });
    } catch (error) {
      const failure = { state: 'failed' as const, error: describeError(error), finishedAt: new Date().toISOString() };
      last = last ? { ...last, ...failure } : ({ id, target: targetName, ...failure } as unknown as RegionRestoreReport);
      this.logger.warn(`region restore ${id} from ${targetName} failed: ${describeError(error)}`);
      // Refusals (a region that is not empty, no such backup) are final; anything else is retried.
      if (error instanceof CairnError && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) await job.discard();
      throw error;
    } finally {
      if (last) await this.state.setJson(`region-restore:${id}`, last);
      await target.close();
    }
  }

  /** Puts a target's periodic backups on (or off, with null). */
  async schedule(target: string, schedule: BackupSchedule | null): Promise<void> {
    const id = `backup-every-${target}`;
    const queue = this.queues.queue(BACKUP_QUEUE);
    if (schedule === null) {
      await queue.removeJobScheduler(id);
      return;
    }
    await queue.upsertJobScheduler(id, { every: schedule.everyMs }, { name: 'backup', data: { target, trigger: 'schedule' }, opts: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: 100, removeOnFail: 100 } });
  }

  async request(target: string, trigger: string): Promise<{ jobId: string }> {
    await this.targets.view(target);
    const job = await this.queues.queue(BACKUP_QUEUE).add('backup', { target, trigger }, { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: 100, removeOnFail: 100 });
    return { jobId: job.id ?? '' };
  }

  /** The backup running now (this instance, else as the running one last saved it) and the recent runs, newest first. */
  async runs(): Promise<{ running: BackupReport | null; recent: BackupReport[] }> {
    const [running, recent] = await Promise.all([this.state.getJson<BackupReport>('backup:current'), this.state.getJson<BackupReport[]>('backup:runs')]);
    return { running: this.current ?? running, recent: recent ?? [] };
  }

  async list(target: string): Promise<BackupManifest[]> {
    const t = await this.targets.open(target);
    try {
      return await readManifests(t);
    } finally {
      await t.close();
    }
  }

  async verify(target: string, backupId: string | undefined, sample: number | 'all'): Promise<VerifyReport> {
    const t = await this.targets.open(target);
    try {
      const manifests = await readManifests(t);
      const manifest = backupId ? manifests.find((m) => m.id === backupId) : manifests.at(-1);
      if (!manifest) throw new CairnError(BackupErrorCodes.NoSuchBackup, backupId ? `no complete backup ${backupId} in ${target}` : `no complete backup in ${target}`, { target });
      return await verifyBackup(t, manifest, sample, this.queues.shutdownSignal);
    } finally {
      await t.close();
    }
  }

  status(): WorkerStatus {
    const running = this.current;
    return {
      name: this.name,
      state: running ? 'running' : this.lastError ? 'failed' : 'idle',
      runs: this.completed,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      ...(running
        ? { progress: { doneItems: running.chunks.doneItems, totalItems: running.chunks.totalItems, doneBytes: running.chunks.doneBytes, totalBytes: running.chunks.totalBytes, etaSeconds: running.chunks.etaSeconds ?? undefined, detail: `${running.target}: ${running.phase}` } }
        : {}),
    };
  }

  private async process(job: Job<BackupJob>): Promise<BackupManifest | { skipped: string }> {
    const targetName = job.data.target;
    let held;
    try {
      // Long enough for the lease of a holder that died (kill -9) to run out, so its backup is resumed here.
      held = await abortable(this.locks.hold(`backup-${targetName}`, { ttlMs: BACKUP_LEASE_TTL_MS, waitMs: 2 * BACKUP_LEASE_TTL_MS }), this.queues.shutdownSignal);
    } catch (error) {
      if (error instanceof CairnError && (error.code === LockWireErrorCodes.WaitTimeout || error.code === LockWireErrorCodes.Conflict)) return { skipped: `another backup of ${targetName} is running` };
      throw error;
    }
    const stored = await this.targets.view(targetName);
    const target = await this.targets.open(targetName);
    const signal = AbortSignal.any([held.signal, this.queues.shutdownSignal]);
    let lastSaved = 0;
    let last = null as BackupReport | null;
    try {
      const manifest = await this.runner.run(targetName, target, new BytePacer(stored.bytesPerSecond), signal, async (report) => {
        this.current = last = report;
        if (Date.now() - lastSaved < REPORT_EVERY_MS && report.state === 'running') return;
        lastSaved = Date.now();
        await this.state.setJson('backup:current', report);
      });
      this.completed++;
      if (stored.schedule) await this.prune(targetName, stored.schedule.keep).catch((error) => this.logger.warn(`pruning ${targetName}: ${describeError(error)}`));
      return manifest;
    } catch (error) {
      this.lastError = { message: describeError(error), at: new Date().toISOString() };
      if (last) last = { ...last, state: 'failed', error: describeError(error), finishedAt: new Date().toISOString() };
      this.logger.warn(`backup to ${targetName} failed: ${describeError(error)}`);
      throw error;
    } finally {
      this.current = null;
      await this.state.setJson('backup:current', null);
      if (last) {
        const runs = (await this.state.getJson<BackupReport[]>('backup:runs')) ?? [];
        await this.state.setJson('backup:runs', [last, ...runs.filter((r) => !(r.id === last!.id && r.state !== 'done'))].slice(0, RUNS_KEPT));
      }
      await target.close();
      await held.release().catch(() => undefined);
    }
  }

  /** Under the target's backup lease (process holds it): no backup of this region writes to the target meanwhile. */
  private async prune(targetName: string, keep: number): Promise<void> {
    const target = await this.targets.open(targetName);
    try {
      const pruned = backupsToPrune(await readManifests(target), keep);
      for (const id of pruned) {
        await target.delete(BackupKeys.manifest(id));
        await target.delete(BackupKeys.configuration(id));
        await target.delete(BackupKeys.progress(id));
        this.logger.log(`pruned backup ${id} of ${targetName} (keeping ${keep})`);
      }
      if (pruned.length > 0) {
        const swept = await sweepTargetChunks(target, this.queues.shutdownSignal);
        this.logger.log(`swept the chunks of ${targetName}: ${swept.deleted} of ${swept.chunks} deleted (no backup left needs them), ${swept.kept} kept`);
      }
    } finally {
      await target.close();
    }
  }
}
