import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { describeError } from '@cairn/chunk-client';
import { LockClient } from '@cairn/lock-client';
import { abortable, SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, type NamedWorker, type ServiceIdentity, type WorkerStatus } from '@cairn/service-kit';
import { SchedulerQueues } from '../adapters/scheduler-queues';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import type { SchedulerConfig } from '../scheduler.config';
import { LifecycleMetadata } from './lifecycle-metadata';
import { reportProgress } from '../domain/job-progress';
import { emptyLifecycleCounts, LifecyclePass, type LifecycleCursor, type LifecycleReport } from './lifecycle-pass';
import { LifecycleTransitions } from './lifecycle-transitions';

export const LIFECYCLE_QUEUE = 'lifecycle';
/** Only one lifecycle pass runs in a region at a time: the instance holding this lease. */
export const LIFECYCLE_LEASE = 'scheduler/lifecycle';
export const LIFECYCLE_LEASE_TTL_MS = 15_000;
export const LIFECYCLE_LEASE_WAIT_MS = 30_000;
/** A pass whose worker died is taken over after this (BullMQ's stalled check). */
export const LIFECYCLE_JOB_LOCK_MS = 10_000;
const LIFECYCLE_SCHEDULER_ID = 'lifecycle-every';
const RECENT_RUNS_MAX = 20;
/** How long `run --wait` waits for a pass before answering with its report so far. */
export const LIFECYCLE_WAIT_MAX_MS = 10 * 60_000;
const WAIT_POLL_MS = 250;

export interface LifecycleRunRequest {
  readonly bucket?: string;
  /** ISO instant the rules are judged at; default: when the pass starts. */
  readonly now?: string;
  readonly dryRun?: boolean;
}

interface LifecycleJob {
  readonly id: string;
  readonly trigger: string;
  readonly nowMs?: number;
  readonly bucket?: string;
}

/**
 * The lifecycle pass as a BullMQ job (docs/lifecycle.md): every CAIRN_LIFECYCLE_INTERVAL_MS, and on
 * an operator's `POST /admin/lifecycle/run` (optionally as of another moment). One pass at a time
 * per region (the lifecycle lease); its cursor is saved in Redis after every action, so a pass
 * whose scheduler died is taken up by the next worker where it stopped.
 */
@Injectable()
export class LifecycleQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'lifecycle';
  private readonly logger = new Logger('LifecycleQueue');
  private current: LifecyclePass | null = null;
  private runs = 0;
  private lastError?: { message: string; at: string };
  private lastRunAt?: string;
  private nextActionAtMs = 0;

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly metadata: LifecycleMetadata,
    private readonly transitions: LifecycleTransitions,
    private readonly locks: LockClient,
    private readonly state: SchedulerStateStore,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.workers.register(this);
    this.queues
      .worker<LifecycleJob>(LIFECYCLE_QUEUE, (job) => this.process(job), { concurrency: 1, lockDuration: LIFECYCLE_JOB_LOCK_MS, stalledInterval: LIFECYCLE_JOB_LOCK_MS })
      .on('failed', (job, error) => {
        if (job) void this.failedForGood(job, error).catch((e) => this.logger.warn(`could not record lifecycle job ${job.id} as failed: ${describeError(e)}`));
      });
    await this.queues
      .queue(LIFECYCLE_QUEUE)
      .upsertJobScheduler(LIFECYCLE_SCHEDULER_ID, { every: this.config.CAIRN_LIFECYCLE_INTERVAL_MS }, { name: 'lifecycle', data: { id: '', trigger: 'interval' }, opts: { removeOnComplete: 100, removeOnFail: 100, attempts: 5, backoff: { type: 'exponential', delay: 5_000 } } })
      .catch((error) => this.logger.warn(`could not schedule lifecycle passes: ${describeError(error)}`));
  }

  /** Queues a pass (as of `now` when given); a dry run is done here and now, and acts on nothing. */
  async run(request: LifecycleRunRequest, signal: AbortSignal): Promise<LifecycleReport> {
    const nowMs = request.now !== undefined ? Date.parse(request.now) : undefined;
    const id = `lifecycle-${randomUUID()}`;
    if (request.dryRun === true) {
      const pass = new LifecyclePass(this.metadata, this.transitions, {
        id,
        trigger: 'dry run',
        nowMs: nowMs ?? Date.now(),
        ...(request.bucket !== undefined ? { bucket: request.bucket } : {}),
        dryRun: true,
        region: this.identity.region,
        signal,
        resumeFrom: null,
        saveCursor: async () => undefined,
        publish: async () => undefined,
        pace: async () => undefined,
      });
      return pass.run();
    }
    const job: LifecycleJob = { id, trigger: 'admin', ...(nowMs !== undefined ? { nowMs } : {}), ...(request.bucket !== undefined ? { bucket: request.bucket } : {}) };
    const queued: LifecycleReport = {
      id,
      trigger: 'admin',
      now: new Date(nowMs ?? Date.now()).toISOString(),
      ...(request.bucket !== undefined ? { bucket: request.bucket } : {}),
      dryRun: false,
      state: 'running',
      startedAt: new Date().toISOString(),
      counts: emptyLifecycleCounts(),
      progress: reportProgress({ doneItems: 0, totalItems: 0, doneBytes: 0, totalBytes: 0 }, Date.now(), Date.now()),
      resumes: 0,
      failureSample: [],
    };
    await this.state.setJson(`lifecycle:run:${id}`, queued);
    await this.queues.queue(LIFECYCLE_QUEUE).add('lifecycle-now', job, { jobId: id, attempts: 5, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: 100, removeOnFail: 100, priority: 1 });
    return queued;
  }

  /** Waits for a queued pass to finish (or `maxMs`), then answers its report. */
  async waitFor(id: string, maxMs: number, signal: AbortSignal): Promise<LifecycleReport | null> {
    const until = Date.now() + maxMs;
    for (;;) {
      const report = await this.report(id);
      if (report === null || report.state !== 'running' || Date.now() >= until || signal.aborted) return report;
      await sleep(WAIT_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  async report(id: string): Promise<LifecycleReport | null> {
    const current = this.current?.report();
    if (current?.id === id) return current;
    return this.state.getJson<LifecycleReport>(`lifecycle:run:${id}`);
  }

  async reports(): Promise<{ running: LifecycleReport | null; last: LifecycleReport | null; recent: LifecycleReport[] }> {
    const [running, last, ids] = await Promise.all([
      this.state.getJson<LifecycleReport>('lifecycle:current'),
      this.state.getJson<LifecycleReport>('lifecycle:last'),
      this.state.getJson<string[]>('lifecycle:recent'),
    ]);
    const recent = (await Promise.all((ids ?? []).map((id) => this.report(id)))).filter((r): r is LifecycleReport => r !== null);
    return { running: this.current?.report() ?? (running?.state === 'running' ? running : null), last, recent };
  }

  status(): WorkerStatus {
    const running = this.current?.report();
    return {
      name: this.name,
      state: running ? 'running' : this.lastError && !this.lastRunAt ? 'failed' : 'idle',
      runs: this.runs,
      ...(this.lastRunAt ? { lastRunAt: this.lastRunAt } : {}),
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      ...(running
        ? {
            progress: {
              doneItems: running.counts.bucketsDone,
              totalItems: running.counts.bucketsTotal,
              detail: `as of ${running.now}: ${running.counts.keysScanned} keys, ${running.counts.expired} expired, ${running.counts.noncurrentDeleted} noncurrent removed, ${running.counts.uploadsAborted} uploads aborted`,
            },
          }
        : {}),
    };
  }

  /** Actions at most CAIRN_LIFECYCLE_ACTIONS_PER_SECOND, evenly spaced. */
  private async pace(signal: AbortSignal): Promise<void> {
    const intervalMs = 1000 / this.config.CAIRN_LIFECYCLE_ACTIONS_PER_SECOND;
    const now = Date.now();
    const at = Math.max(now, this.nextActionAtMs);
    this.nextActionAtMs = at + intervalMs;
    if (at > now) await sleep(at - now, undefined, { signal });
  }

  /**
   * A job BullMQ gives up on without running it again (attempts spent, or its worker died more than
   * DEFAULT_MAX_STALLS times (scheduler-queues), which fails it before any worker runs it): its report says so, and
   * nothing is left to resume.
   */
  private async failedForGood(job: Job<LifecycleJob>, error: Error): Promise<void> {
    if (job.finishedOn === undefined) return; // retried later: it resumes from its cursor
    const id = passIdOf(job);
    const report = await this.state.getJson<LifecycleReport>(`lifecycle:run:${id}`);
    if (report?.state === 'running') {
      const failed: LifecycleReport = { ...report, state: 'failed', error: describeError(error), finishedAt: new Date().toISOString() };
      await this.state.setJson(`lifecycle:run:${id}`, failed);
      await this.state.setJson('lifecycle:last', failed);
      if ((await this.state.getJson<LifecycleReport>('lifecycle:current'))?.id === id) await this.state.setJson('lifecycle:current', null);
    }
    await this.state.setJson(`lifecycle:cursor:${id}`, null);
    this.logger.warn(`lifecycle ${id} failed for good: ${describeError(error)}`);
  }

  private async process(job: Job<LifecycleJob>): Promise<LifecycleReport> {
    const id = passIdOf(job);
    const held = await abortable(this.locks.hold(LIFECYCLE_LEASE, { ttlMs: LIFECYCLE_LEASE_TTL_MS, waitMs: LIFECYCLE_LEASE_WAIT_MS }), this.queues.shutdownSignal);
    const signal = AbortSignal.any([held.signal, this.queues.shutdownSignal]);
    const cursorKey = `lifecycle:cursor:${id}`;
    const resumeFrom = await this.state.getJson<LifecycleCursor>(cursorKey);
    if (resumeFrom === null) await this.remember(id);
    const pass = new LifecyclePass(this.metadata, this.transitions, {
      id,
      trigger: job.data.trigger,
      nowMs: resumeFrom?.nowMs ?? job.data.nowMs ?? Date.now(),
      ...(job.data.bucket !== undefined ? { bucket: job.data.bucket } : {}),
      dryRun: false,
      region: this.identity.region,
      signal,
      resumeFrom,
      saveCursor: (cursor) => this.state.setJson(cursorKey, cursor),
      publish: async (report) => {
        await this.state.setJson(`lifecycle:run:${id}`, report);
        await this.state.setJson(report.state === 'running' ? 'lifecycle:current' : 'lifecycle:last', report);
      },
      pace: () => this.pace(signal),
    });
    this.current = pass;
    try {
      const report = await pass.run();
      this.runs++;
      this.lastRunAt = new Date().toISOString();
      await this.state.setJson('lifecycle:current', null);
      // The pass is over: nothing to resume (a null cursor reads as none).
      await this.state.setJson(cursorKey, null);
      const c = report.counts;
      this.logger.log(
        `lifecycle ${id} as of ${report.now}: ${c.bucketsDone} buckets, ${c.keysScanned} keys; ${c.expired} expired, ${c.noncurrentDeleted} noncurrent removed, ${c.deleteMarkersRemoved} delete markers removed, ${c.uploadsAborted} uploads aborted, ${c.transitioned} transitioned (${c.transitionsUnavailable} due, unavailable), ${c.skippedChanged} changed since read, ${c.failures} failed${report.resumes > 0 ? `; resumed ${report.resumes}×` : ''}`,
      );
      return report;
    } catch (error) {
      this.lastError = { message: describeError(error), at: new Date().toISOString() };
      throw error;
    } finally {
      this.current = null;
      await held.release().catch(() => undefined);
    }
  }

  private async remember(id: string): Promise<void> {
    const recent = (await this.state.getJson<string[]>('lifecycle:recent')) ?? [];
    await this.state.setJson('lifecycle:recent', [id, ...recent.filter((r) => r !== id)].slice(0, RECENT_RUNS_MAX));
  }
}

/** A scheduled pass has no id of its own: the BullMQ job's id names it (and its saved cursor). */
function passIdOf(job: Job<LifecycleJob>): string {
  return job.data.id !== '' ? job.data.id : `lifecycle-${job.id ?? randomUUID()}`;
}
