import type { JobProgressView } from '@cairn/protocol';
import type { LifecycleReport } from './lifecycle-pass';

/** A lifecycle pass as one line of the jobs summary (monitoring's dashboard): buckets done of total, what it did. */
export function lifecycleJob(report: LifecycleReport): JobProgressView {
  const c = report.counts;
  const p = report.progress;
  const did = [
    `${c.keysScanned} keys`,
    `${c.expired} expired`,
    `${c.noncurrentDeleted} noncurrent removed`,
    `${c.deleteMarkersRemoved} delete markers removed`,
    `${c.uploadsAborted} uploads aborted`,
    `${c.transitioned} transitioned`,
    c.transitionsUnavailable > 0 ? `${c.transitionsUnavailable} transitions due (unavailable)` : undefined,
    c.failures > 0 ? `${c.failures} failures` : undefined,
  ].filter(Boolean);
  return {
    id: `lifecycle:${report.id}`,
    kind: 'lifecycle',
    title: `lifecycle (${report.trigger}) as of ${report.now}${report.bucket ? ` — ${report.bucket}` : ''}`,
    state: report.state,
    doneItems: c.bucketsDone,
    totalItems: c.bucketsTotal,
    doneBytes: 0,
    totalBytes: 0,
    fractionDone: p.fractionDone,
    ratePerSecond: p.ratePerSecond,
    rateUnit: 'items',
    etaSeconds: p.etaSeconds,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt ?? null,
    detail: did.join(' · '),
  };
}
