import { SWEEP_WORK_KINDS, type JobsReplyWire, type ProgressWire, type ScrubNodeWire, type SweepReportWire } from './admin-api.types';
import { formatDuration } from './duration';
import { formatBytes, formatPercent, formatRate } from './format';

/** A scrub job's id is this prefix and the node's id; a sweep's is its queue job id. */
export const SCRUB_JOB_PREFIX = 'scrub:';

/** One job as the CLI lists and watches it. */
export interface JobView {
  readonly id: string;
  readonly kind: 'sweep' | 'scrub';
  /** surveying, working, done, failed (sweep); scrubbing, paced, done (scrub). */
  readonly state: string;
  readonly detail: string;
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly doneItems: number;
  readonly totalItems: number;
  readonly fractionDone: number;
  readonly ratePerSecond: number | null;
  readonly rateUnit: 'bytes' | 'items';
  readonly etaSeconds: number | null;
  readonly finished: boolean;
  readonly failed: boolean;
  readonly error?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The three kinds of a sweep's work (repair, rebalance, gc) as one job. */
export function sweepJob(report: SweepReportWire): JobView {
  const works = SWEEP_WORK_KINDS.map((k) => report.work[k]).filter((w): w is ProgressWire => Boolean(w));
  const totalBytes = sum(works.map((w) => w.totalBytes));
  const doneBytes = sum(works.map((w) => w.doneBytes));
  const totalItems = sum(works.map((w) => w.totalItems));
  const doneItems = sum(works.map((w) => w.doneItems));
  const byBytes = totalBytes > 0;
  const rates = works.filter((w) => w.ratePerSecond !== null && w.rateUnit === (byBytes ? 'bytes' : 'items')).map((w) => w.ratePerSecond!);
  const pending = works.filter((w) => w.fractionDone < 1);
  const etas = pending.map((w) => w.etaSeconds);
  const finished = report.state === 'done' || report.state === 'failed';
  const surveying = report.state === 'surveying';
  const fraction = surveying
    ? report.survey.shardsTotal > 0
      ? report.survey.shardsDone / report.survey.shardsTotal
      : 0
    : byBytes
      ? doneBytes / totalBytes
      : totalItems > 0
        ? doneItems / totalItems
        : 1;
  const moves = SWEEP_WORK_KINDS.filter((k) => report.work[k] && report.work[k].totalItems > 0).map((k) => `${k} ${report.work[k].doneItems}/${report.work[k].totalItems}`);
  const detail = surveying
    ? `surveying ${report.survey.shardsDone}/${report.survey.shardsTotal} shards, ${report.survey.chunksSeen} chunks seen`
    : moves.length > 0
      ? moves.join(', ')
      : 'nothing to move';
  return {
    id: report.id,
    kind: 'sweep',
    state: report.state,
    detail: `${detail}${report.failures > 0 ? `, ${report.failures} failures` : ''} (${report.trigger})`,
    doneBytes,
    totalBytes,
    doneItems,
    totalItems,
    fractionDone: finished && report.state === 'done' ? 1 : Math.min(1, Math.max(0, fraction)),
    ratePerSecond: rates.length > 0 ? sum(rates) : null,
    rateUnit: byBytes ? 'bytes' : 'items',
    etaSeconds: finished ? 0 : pending.length === 0 ? (surveying ? null : 0) : etas.some((e) => e === null) ? null : Math.max(...(etas as number[])),
    finished,
    failed: report.state === 'failed',
    ...(report.error ? { error: report.error } : {}),
    startedAt: report.startedAt,
    ...(report.finishedAt ? { finishedAt: report.finishedAt } : {}),
  };
}

/** A node's current scrub pass as a job. */
export function scrubJob(node: ScrubNodeWire): JobView {
  const p = node.progress;
  return {
    id: `${SCRUB_JOB_PREFIX}${node.nodeId}`,
    kind: 'scrub',
    state: node.urgent ? 'scrubbing' : 'paced',
    detail: `${node.pass.verifiedChunks} chunks verified this pass, ${node.pass.corruptFound} corrupt; pace ${formatRate(node.paceBytesPerSecond, 'bytes')}`,
    doneBytes: p.doneBytes,
    totalBytes: p.totalBytes,
    doneItems: p.doneItems,
    totalItems: p.totalItems,
    fractionDone: p.fractionDone,
    ratePerSecond: p.ratePerSecond,
    rateUnit: p.rateUnit,
    etaSeconds: p.etaSeconds,
    finished: false,
    failed: false,
    startedAt: node.pass.startedAt,
  };
}

/** Every job the scheduler reports: the running sweep, the last one, and each node's scrub pass. */
export function listJobs(reply: JobsReplyWire): JobView[] {
  const sweeps = [reply.sweep.running, reply.sweep.last, reply.sweep.lastComplete].filter((r): r is SweepReportWire => Boolean(r));
  const seen = new Set<string>();
  const out: JobView[] = [];
  for (const report of sweeps) {
    if (seen.has(report.id)) continue;
    seen.add(report.id);
    out.push(sweepJob(report));
  }
  for (const node of reply.scrub ?? []) out.push(scrubJob(node));
  return out;
}

/** What `jobs watch` remembers between polls: the scrub pass it started watching. */
export interface WatchMemory {
  readonly scrubPassStartedAt?: string;
}

export type WatchStep =
  | { readonly kind: 'found'; readonly job: JobView; readonly memory: WatchMemory }
  /** A sweep not started yet (queued) or an id not known (yet). */
  | { readonly kind: 'not-found'; readonly sweepRunning: boolean; readonly memory: WatchMemory };

/**
 * One poll of a watched job. A sweep is found by id among the running and recent sweeps; a scrub
 * (scrub:<node>) is the node's pass that was current when the watch began, done once the node
 * reports that pass as its previous one.
 */
export function watchStep(reply: JobsReplyWire, id: string, memory: WatchMemory): WatchStep {
  if (id.startsWith(SCRUB_JOB_PREFIX)) {
    const node = (reply.scrub ?? []).find((n) => `${SCRUB_JOB_PREFIX}${n.nodeId}` === id);
    if (!node) return { kind: 'not-found', sweepRunning: false, memory };
    const watched = memory.scrubPassStartedAt ?? node.pass.startedAt;
    const next = { scrubPassStartedAt: watched };
    if (node.pass.startedAt !== watched) {
      const prev = node.previousPass;
      const done = scrubJob(node);
      return {
        kind: 'found',
        memory: next,
        job: {
          ...done,
          state: 'done',
          detail: prev ? `pass verified ${prev.verifiedChunks} chunks (${formatBytes(prev.verifiedBytes)}), ${prev.corruptFound} corrupt` : 'pass finished',
          doneBytes: prev?.verifiedBytes ?? done.totalBytes,
          doneItems: prev?.verifiedChunks ?? done.totalItems,
          totalBytes: prev?.verifiedBytes ?? done.totalBytes,
          totalItems: prev?.verifiedChunks ?? done.totalItems,
          fractionDone: 1,
          etaSeconds: 0,
          finished: true,
          startedAt: watched,
          ...(prev?.finishedAt ? { finishedAt: prev.finishedAt } : {}),
        },
      };
    }
    return { kind: 'found', memory: next, job: scrubJob(node) };
  }
  const sweeps = [reply.sweep.running, reply.sweep.last, reply.sweep.lastComplete].filter((r): r is SweepReportWire => Boolean(r));
  const report = sweeps.find((r) => r.id === id);
  if (!report) return { kind: 'not-found', sweepRunning: reply.sweep.running !== null && reply.sweep.running.state !== 'done' && reply.sweep.running.state !== 'failed', memory };
  return { kind: 'found', memory, job: sweepJob(report) };
}

/** The amount done of the total, in the job's unit: "12.0 MiB / 40.0 MiB" or "120 / 400 chunks". */
export function formatAmount(job: JobView): string {
  if (job.rateUnit === 'bytes' || job.totalBytes > 0) return `${formatBytes(job.doneBytes)} / ${formatBytes(job.totalBytes)}`;
  return `${job.doneItems} / ${job.totalItems} chunks`;
}

/** One line of progress, as `jobs watch` prints it where there is no terminal to redraw. */
export function formatProgressLine(job: JobView): string {
  return `${job.kind} ${job.id} ${job.state} ${formatPercent(job.fractionDone)}  ${formatAmount(job)}  rate ${formatRate(job.ratePerSecond, job.rateUnit)}  ETA ${job.finished ? '0s' : formatDuration(job.etaSeconds)}  ${job.detail}`;
}

/** A text bar of the given width: "[#########.........]". */
export function textBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
