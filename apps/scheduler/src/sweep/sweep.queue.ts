import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { LockClient } from '@cairn/lock-client';
import { CHUNK_MAINTENANCE_FENCING_RESOURCE, CairnError, LockWireErrorCodes } from '@cairn/protocol';
import { abortable, SERVICE_CONFIG, WorkerRegistry, type NamedWorker, type WorkerStatus } from '@cairn/service-kit';
import { QueueNames, SchedulerQueues } from '../adapters/scheduler-queues';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import { ClusterView } from '../cluster/cluster-view';
import { describeError } from '@cairn/chunk-client';
import type { SchedulerConfig } from '../scheduler.config';
import { ChunkSweep, type SweepReport } from './chunk-sweep';

/** The lease every chunk deletion in the region is fenced by (storage nodes keep the highest token seen per lease). */
export const CHUNK_MAINTENANCE_LEASE = CHUNK_MAINTENANCE_FENCING_RESOURCE;
export const SWEEP_LEASE_TTL_MS = 15_000;
const SWEEP_SCHEDULER_ID = 'sweep-every';
/** A job whose worker died is taken over after this (BullMQ's stalled check). */
export const SWEEP_JOB_LOCK_MS = 10_000;
/** The job that re-replicates a down node's chunks, CAIRN_REREPLICATE_AFTER_MS after it was last heard. */
export const REREPLICATE_JOB = 'rereplicate';
/** Added to that delay, so the sweep finds the node unreachable for the whole of it. */
export const REREPLICATE_MARGIN_MS = 1_000;
/** Delayed re-replication jobs looked through when a node recovers. */
const REREPLICATE_JOBS_SCANNED_MAX = 1_000;

export interface SweepJob {
  readonly trigger: string;
  /** A node monitoring declared down, and when it was last heard (ms): the sweep counts it unreachable since then. */
  readonly down?: { readonly nodeId: string; readonly sinceMs: number };
}

/**
 * Runs the sweep on a BullMQ repeatable job (every CAIRN_SWEEP_INTERVAL_MS), on demand, and at
 * once after a ring change. Whichever instance takes a job runs it only while it holds the
 * region's chunk-maintenance lease, whose fencing token guards every delete: two schedulers never
 * sweep at once, and a paused one that lost its lease cannot delete anything.
 */
@Injectable()
export class SweepQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'sweep';
  private readonly logger = new Logger('SweepQueue');
  private runs = 0;
  private lastError?: { message: string; at: string };
  private lastRunAt?: string;

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly sweep: ChunkSweep,
    private readonly locks: LockClient,
    private readonly cluster: ClusterView,
    private readonly state: SchedulerStateStore,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.workers.register(this);
    this.queues.worker<SweepJob>(QueueNames.sweep, (job) => this.process(job), { concurrency: 1, lockDuration: SWEEP_JOB_LOCK_MS, stalledInterval: SWEEP_JOB_LOCK_MS });
    this.cluster.onEpochChange((epoch) => {
      this.requestSweep(`ring epoch ${epoch}`).catch((error) => this.logger.warn(`could not queue a sweep: ${describeError(error)}`));
    });
    await this.queues
      .queue(QueueNames.sweep)
      .upsertJobScheduler(SWEEP_SCHEDULER_ID, { every: this.config.CAIRN_SWEEP_INTERVAL_MS }, { name: 'sweep', data: { trigger: 'interval' }, opts: { removeOnComplete: 100, removeOnFail: 100 } })
      .catch((error) => this.logger.warn(`could not schedule the sweep: ${describeError(error)}`));
  }

  /** Queues a sweep now (one waiting sweep at a time is enough). */
  async requestSweep(trigger: string): Promise<{ queued: boolean; jobId: string }> {
    const queue = this.queues.queue(QueueNames.sweep);
    const waiting = await queue.getJobs(['waiting', 'prioritized'], 0, 10);
    const pending = waiting.find((j) => j.name === 'sweep-now');
    if (pending?.id) return { queued: false, jobId: pending.id };
    const job = await queue.add('sweep-now', { trigger }, { removeOnComplete: 100, removeOnFail: 100, priority: 1 });
    return { queued: true, jobId: job.id ?? '' };
  }

  /**
   * A node was declared down: once it has been silent for CAIRN_REREPLICATE_AFTER_MS, a sweep
   * places its chunks without it (their missing copies go to other nodes). A node back before
   * then has the job cancelled (cancelRereplication), so a restart copies only what it missed.
   */
  async scheduleRereplication(nodeId: string, downSinceMs: number, eventSequence: number): Promise<{ jobId: string; delayMs: number }> {
    const delayMs = Math.max(0, downSinceMs + this.config.CAIRN_REREPLICATE_AFTER_MS + REREPLICATE_MARGIN_MS - Date.now());
    const job = await this.queues.queue(QueueNames.sweep).add(
      REREPLICATE_JOB,
      { trigger: `${nodeId} down since ${new Date(downSinceMs).toISOString()}`, down: { nodeId, sinceMs: downSinceMs } },
      { jobId: `${REREPLICATE_JOB}-${nodeId}-${eventSequence}`, delay: delayMs, priority: 1, removeOnComplete: 100, removeOnFail: 100 },
    );
    return { jobId: job.id ?? '', delayMs };
  }

  /** Drops the re-replication still waiting for a node that is back; returns how many there were. */
  async cancelRereplication(nodeId: string): Promise<number> {
    const delayed = await this.queues.queue(QueueNames.sweep).getJobs(['delayed'], 0, REREPLICATE_JOBS_SCANNED_MAX);
    const mine = delayed.filter((j) => j.name === REREPLICATE_JOB && (j.data as SweepJob).down?.nodeId === nodeId);
    await Promise.all(mine.map((j) => j.remove().catch(() => undefined)));
    return mine.length;
  }

  async reports(): Promise<{ running: SweepReport | null; last: SweepReport | null; lastComplete: SweepReport | null }> {
    const [running, last, lastComplete] = await Promise.all([
      this.state.getJson<SweepReport>('sweep:current'),
      this.state.getJson<SweepReport>('sweep:last'),
      this.state.getJson<SweepReport>('sweep:last-complete'),
    ]);
    return { running: this.sweep.running ?? running, last, lastComplete };
  }

  status(): WorkerStatus {
    const running = this.sweep.running;
    const work = running?.work;
    const doneBytes = work ? work.repair.doneBytes + work.rebalance.doneBytes + work.gc.doneBytes : undefined;
    const totalBytes = work ? work.repair.totalBytes + work.rebalance.totalBytes + work.gc.totalBytes : undefined;
    const doneItems = work ? work.repair.doneItems + work.rebalance.doneItems + work.gc.doneItems : undefined;
    const totalItems = work ? work.repair.totalItems + work.rebalance.totalItems + work.gc.totalItems : undefined;
    const copyEta = work ? Math.max(work.repair.etaSeconds ?? 0, work.rebalance.etaSeconds ?? 0) : undefined;
    return {
      name: this.name,
      state: running ? 'running' : this.lastError && !this.lastRunAt ? 'failed' : 'idle',
      runs: this.runs,
      ...(this.lastRunAt ? { lastRunAt: this.lastRunAt } : {}),
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      ...(running ? { progress: { doneItems, totalItems, doneBytes, totalBytes, etaSeconds: copyEta, detail: running.state } } : {}),
    };
  }

  private async process(job: Job<SweepJob>): Promise<SweepReport | { skipped: string }> {
    let held;
    try {
      held = await abortable(this.locks.hold(CHUNK_MAINTENANCE_LEASE, { ttlMs: SWEEP_LEASE_TTL_MS, waitMs: SWEEP_LEASE_TTL_MS }), this.queues.shutdownSignal);
    } catch (error) {
      if (error instanceof CairnError && (error.code === LockWireErrorCodes.WaitTimeout || error.code === LockWireErrorCodes.Conflict)) {
        return { skipped: 'another scheduler instance holds the chunk-maintenance lease' };
      }
      this.lastError = { message: `lease: ${describeError(error)}`, at: new Date().toISOString() };
      throw error;
    }
    try {
      const signal = AbortSignal.any([held.signal, this.queues.shutdownSignal]);
      const report = await this.sweep.run({
        id: job.id ?? randomUUID(),
        instance: this.cluster.identity.instance,
        trigger: job.data.trigger,
        fencingToken: held.fencingToken,
        fencingResource: CHUNK_MAINTENANCE_LEASE,
        signal,
        ...(job.data.down ? { unreachableSince: { [job.data.down.nodeId]: job.data.down.sinceMs } } : {}),
      });
      this.runs++;
      this.lastRunAt = new Date().toISOString();
      if (report.state === 'failed') {
        this.lastError = { message: report.error ?? 'failed', at: this.lastRunAt };
        throw new Error(report.error);
      }
      return report;
    } finally {
      await held.release().catch(() => undefined);
    }
  }
}
