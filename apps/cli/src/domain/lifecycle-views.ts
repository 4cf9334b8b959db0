/** What `cairn lifecycle` prints: the scheduler's lifecycle reports (apps/scheduler's LifecycleReport, as JSON). */

export interface LifecycleCountsWire {
  readonly bucketsDone: number;
  readonly bucketsTotal: number;
  readonly keysScanned: number;
  readonly versionsScanned: number;
  readonly uploadsScanned: number;
  readonly expired: number;
  readonly noncurrentDeleted: number;
  readonly deleteMarkersRemoved: number;
  readonly uploadsAborted: number;
  readonly transitioned: number;
  readonly transitionsUnavailable: number;
  readonly skippedChanged: number;
  readonly failures: number;
}

export interface LifecycleActionWire {
  readonly kind: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly ruleId: string;
  readonly storageClass?: string;
}

export interface LifecycleReportWire {
  readonly id: string;
  readonly trigger: string;
  readonly now: string;
  readonly bucket?: string;
  readonly dryRun: boolean;
  readonly state: 'running' | 'done' | 'failed';
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly counts: LifecycleCountsWire;
  readonly resumes: number;
  readonly failureSample: readonly string[];
  readonly planned?: readonly LifecycleActionWire[];
  readonly plannedTruncated?: boolean;
}

/** One line: what the pass did (or, dry, would do). */
export function lifecycleLine(r: LifecycleReportWire): string {
  const c = r.counts;
  const verb = r.dryRun ? 'would' : 'did';
  const parts = [
    `${c.expired} expire`,
    `${c.noncurrentDeleted} remove noncurrent`,
    `${c.deleteMarkersRemoved} remove delete markers`,
    `${c.uploadsAborted} abort uploads`,
    `${c.transitioned} transition`,
  ];
  const extra = [
    c.transitionsUnavailable > 0 ? `${c.transitionsUnavailable} transitions due but unavailable` : '',
    c.skippedChanged > 0 ? `${c.skippedChanged} skipped (changed since read)` : '',
    c.failures > 0 ? `${c.failures} failed` : '',
    r.resumes > 0 ? `resumed ${r.resumes}×` : '',
  ].filter((s) => s !== '');
  const scope = r.bucket ? `bucket ${r.bucket}` : `${c.bucketsDone}/${c.bucketsTotal} buckets`;
  return `lifecycle ${r.id} ${r.state} as of ${r.now} — ${scope}, ${c.keysScanned} keys, ${c.uploadsScanned} uploads: ${verb} ${parts.join(', ')}${extra.length ? `; ${extra.join(', ')}` : ''}`;
}

/** A dry run's plan, one action a line. */
export function plannedLines(r: LifecycleReportWire): string[] {
  const lines = (r.planned ?? []).map((a) => `  ${a.kind.padEnd(20)} ${a.bucket}/${a.key}  ${a.versionId}  (rule ${a.ruleId}${a.storageClass ? ` → ${a.storageClass}` : ''})`);
  if (r.plannedTruncated) lines.push('  … (the first 1000 listed; the counts above cover all)');
  return lines;
}
