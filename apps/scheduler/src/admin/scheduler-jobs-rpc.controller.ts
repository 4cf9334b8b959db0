import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { schedulerPattern, SchedulerRpc, type JobProgressView, type JobsSummaryReply } from '@cairn/protocol';
import { SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import type { ProgressReport } from '../domain/job-progress';
import { lifecycleJob } from '../lifecycle/lifecycle-job-view';
import { LifecycleQueue } from '../lifecycle/lifecycle.queue';
import { ChunkRepairQueue } from '../repair/chunk-repair.queue';
import { ScrubQueue, type ScrubNodeReport } from '../scrub/scrub.queue';
import type { SweepCategory, SweepReport } from '../sweep/chunk-sweep';
import { SweepQueue } from '../sweep/sweep.queue';

const SWEEP_CATEGORIES: readonly SweepCategory[] = ['repair', 'rebalance', 'gc'];
const PERCENT = 100;
const MS_PER_SECOND = 1_000;

function progressFields(p: ProgressReport): Pick<JobProgressView, 'doneItems' | 'totalItems' | 'doneBytes' | 'totalBytes' | 'fractionDone' | 'ratePerSecond' | 'rateUnit' | 'etaSeconds'> {
  return {
    doneItems: p.doneItems,
    totalItems: p.totalItems,
    doneBytes: p.doneBytes,
    totalBytes: p.totalBytes,
    fractionDone: p.fractionDone,
    ratePerSecond: p.ratePerSecond,
    rateUnit: p.rateUnit,
    etaSeconds: p.etaSeconds,
  };
}

/** The sweep's three kinds of work as three progress lines. */
export function sweepJobs(sweep: SweepReport): JobProgressView[] {
  const state = sweep.state === 'working' ? 'running' : sweep.state;
  const surveying = sweep.state === 'surveying' ? `surveying shard ${sweep.survey.shardsDone}/${sweep.survey.shardsTotal}` : undefined;
  const failure = sweep.error ?? (sweep.failures > 0 ? `${sweep.failures} failures${sweep.lastFailure ? `; last: ${sweep.lastFailure}` : ''}` : undefined);
  return SWEEP_CATEGORIES.map((kind) => {
    const detail = [surveying, sweep.leftOut.length > 0 ? `left out: ${sweep.leftOut.join(', ')}` : undefined, failure].filter(Boolean).join(' · ');
    return {
      id: `sweep:${sweep.id}:${kind}`,
      kind,
      title: `sweep (${sweep.trigger}) — ${kind}`,
      state,
      ...progressFields(sweep.work[kind]),
      startedAt: sweep.startedAt,
      finishedAt: sweep.finishedAt ?? null,
      ...(detail ? { detail } : {}),
    };
  });
}

/**
 * A node's scrub as one progress line: the pass under way ("running" for a scrub-now pass, "paced"
 * for the background one), or, between passes, the last one as done.
 */
export function scrubJob(report: ScrubNodeReport): JobProgressView {
  const coverage = `coverage ${(report.coverage.coveredFraction * PERCENT).toFixed(1)}% of ${report.coverage.windowDays} days${report.corruptFoundTotal > 0 ? ` · ${report.corruptFoundTotal} corrupt found` : ''}`;
  const common = { id: `scrub:${report.nodeId}`, kind: 'scrub' as const, title: `scrub ${report.nodeId}`, nodeId: report.nodeId, detail: coverage };
  const previous = report.previousPass;
  if (!report.urgent && report.pass.verifiedChunks === 0 && previous?.finishedAt) {
    const seconds = (Date.parse(previous.finishedAt) - Date.parse(previous.startedAt)) / MS_PER_SECOND;
    return {
      ...common,
      state: 'done',
      doneItems: previous.verifiedChunks,
      totalItems: previous.verifiedChunks,
      doneBytes: previous.verifiedBytes,
      totalBytes: previous.verifiedBytes,
      fractionDone: 1,
      ratePerSecond: seconds > 0 && previous.verifiedBytes > 0 ? previous.verifiedBytes / seconds : null,
      rateUnit: 'bytes',
      etaSeconds: 0,
      startedAt: previous.startedAt,
      finishedAt: previous.finishedAt,
    };
  }
  return {
    ...common,
    state: report.urgent ? 'running' : 'paced',
    ...progressFields(report.progress),
    startedAt: report.pass.startedAt,
    finishedAt: null,
  };
}

/** The jobs summary of the contract in libs/protocol (scheduler-jobs.contract.ts), for monitoring's dashboard. */
@Controller()
export class SchedulerJobsRpcController {
  constructor(
    private readonly sweep: SweepQueue,
    private readonly scrub: ScrubQueue,
    private readonly repairs: ChunkRepairQueue,
    private readonly lifecycle: LifecycleQueue,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  /** The pass running now, else the last one. */
  private async lifecycleJobs(): Promise<JobProgressView[]> {
    const { running, last } = await this.lifecycle.reports();
    const shown = running ?? last;
    return shown ? [lifecycleJob(shown)] : [];
  }

  @MessagePattern(schedulerPattern(SchedulerRpc.jobsSummary))
  async jobsSummary(): Promise<JobsSummaryReply> {
    const [sweep, scrub, counts] = await Promise.all([this.sweep.reports(), this.scrub.reports(), this.repairs.counts()]);
    const shownSweep = sweep.running ?? sweep.last;
    return {
      instance: this.identity.instance,
      at: new Date().toISOString(),
      jobs: [...(shownSweep ? sweepJobs(shownSweep) : []), ...scrub.map(scrubJob), ...(await this.lifecycleJobs())],
      repairQueue: { waiting: counts['waiting'] ?? 0, active: counts['active'] ?? 0, delayed: counts['delayed'] ?? 0, failed: counts['failed'] ?? 0 },
    };
  }
}
