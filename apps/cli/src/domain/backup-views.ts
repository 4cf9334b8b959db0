import { formatDuration } from './duration';
import { renderTable } from './format';

export interface BackupTargetWire {
  readonly name: string;
  readonly kind: 'dir' | 's3';
  readonly path?: string;
  readonly endpoint?: string;
  readonly bucket?: string;
  readonly prefix?: string;
  readonly bytesPerSecond: number;
  readonly schedule: { readonly everyMs: number; readonly keep: number } | null;
  readonly hasSecret: boolean;
}

export interface BackupReportWire {
  readonly id: string;
  readonly target: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly phase: string;
  readonly resumed: boolean;
  readonly cutSequence: number;
  readonly previousCutSequence: number;
  readonly events: { readonly done: number; readonly total: number };
  readonly chunks: { readonly doneItems: number; readonly totalItems: number; readonly doneBytes: number; readonly totalBytes: number; readonly ratePerSecond: number | null; readonly etaSeconds: number | null };
  readonly chunksAlreadyThere: number;
  readonly bytesWritten: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

export interface BackupRunsWire {
  readonly running: BackupReportWire | null;
  readonly recent: readonly BackupReportWire[];
}

export interface BackupManifestWire {
  readonly id: string;
  readonly cutSequence: number;
  readonly cutAt: string;
  readonly completedAt: string;
  readonly newEvents: number;
  readonly segments: readonly unknown[];
  readonly chunks: { readonly copied: number; readonly copiedBytes: number; readonly alreadyThere: number; readonly needed: number };
  readonly bytesWritten: number;
}

export interface VerifyReportWire {
  readonly backupId: string;
  readonly cutSequence: number;
  readonly segmentsChecked: number;
  readonly segmentsBad: readonly string[];
  readonly configurationOk: boolean;
  readonly chunksNeeded: number;
  readonly chunksChecked: number;
  readonly chunksMissing: readonly string[];
  readonly chunksCorrupt: readonly string[];
  readonly ok: boolean;
  readonly tookMs: number;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

export function targetsTable(targets: readonly BackupTargetWire[]): string {
  return renderTable(
    ['target', 'kind', 'where', 'pace', 'schedule', 'secret'],
    targets.map((t) => [
      t.name,
      t.kind,
      t.kind === 'dir' ? (t.path ?? '') : `${t.endpoint}/${t.bucket}/${t.prefix ?? ''}`,
      `${mib(t.bytesPerSecond)}/s`,
      t.schedule ? `every ${formatDuration(t.schedule.everyMs / 1000)}, keep ${t.schedule.keep}` : '-',
      t.hasSecret ? 'sealed' : '-',
    ]),
    '(no backup targets)',
  );
}

export function backupLine(r: BackupReportWire): string {
  const c = r.chunks;
  const rate = c.ratePerSecond ? `, ${mib(c.ratePerSecond)}/s` : '';
  const eta = r.state === 'running' && c.etaSeconds !== null ? `, ETA ${formatDuration(c.etaSeconds)}` : '';
  return (
    `backup ${r.id} to ${r.target} ${r.state}${r.resumed ? ' (resumed)' : ''} [${r.phase}]: cut at #${r.cutSequence}, events ${r.events.done}/${r.events.total}, ` +
    `chunks ${c.doneItems}/${c.totalItems} (${mib(c.doneBytes)}/${mib(c.totalBytes)}${rate}${eta}), ${r.chunksAlreadyThere} already there` +
    `${r.error ? ` — ${r.error}` : ''}`
  );
}

export function backupsTable(backups: readonly BackupManifestWire[]): string {
  return renderTable(
    ['backup', 'cut', 'cut at', 'completed', 'new events', 'segments', 'chunks copied', 'bytes written'],
    backups.map((b) => [b.id, `#${b.cutSequence}`, b.cutAt, b.completedAt, String(b.newEvents), String(b.segments.length), `${b.chunks.copied} (${b.chunks.alreadyThere} already there)`, mib(b.bytesWritten)]),
    '(no complete backups)',
  );
}

export function verifyLine(v: VerifyReportWire): string {
  const problems = [
    ...v.segmentsBad.map((s) => `bad segment ${s}`),
    ...(v.configurationOk ? [] : ['configuration does not match its hash']),
    ...v.chunksMissing.map((h) => `missing chunk ${h}`),
    ...v.chunksCorrupt.map((h) => `corrupt chunk ${h}`),
  ];
  return [
    `backup ${v.backupId} (cut #${v.cutSequence}) ${v.ok ? 'verified' : 'FAILED verification'}: ${v.segmentsChecked} segments, ${v.chunksChecked} of ${v.chunksNeeded} chunks re-read in ${formatDuration(v.tookMs / 1000)}`,
    ...problems.map((p) => `  ${p}`),
  ].join('\n');
}

export interface DrillReport {
  readonly backupId: string;
  readonly cutSequence: number;
  readonly cutAt: string;
  /** Age of the backup when the drill began: what a disaster then would have lost. */
  readonly rpoSeconds: number;
  /** Time to restore it into the scratch region, queue to projection caught up. */
  readonly rtoSeconds: number;
  /** Chunk bytes and events the restore wrote into the scratch region. */
  readonly restoredChunkBytes: number;
  readonly restoredEvents: number;
  readonly buckets: number;
  readonly sourceObjects: number;
  readonly objects: number;
  readonly etagMismatches: readonly string[];
  readonly etagMismatchCount: number;
  readonly sampled: number;
  readonly byteMismatches: readonly string[];
  readonly ok: boolean;
}

export function drillLines(d: DrillReport): string {
  return [
    `drill of backup ${d.backupId} (cut #${d.cutSequence} at ${d.cutAt}): ${d.ok ? 'PASSED' : 'FAILED'}`,
    `  RPO ${formatDuration(d.rpoSeconds)} (age of the backup), RTO ${formatDuration(d.rtoSeconds)} (restore into the scratch region)`,
    `  ${d.buckets} buckets, ${d.objects} objects restored of ${d.sourceObjects} at the cut, ${d.etagMismatchCount} etag mismatches, ${d.sampled} sampled objects compared byte for byte, ${d.byteMismatches.length} differ`,
    ...d.etagMismatches.map((m) => `  etag differs: ${m}`),
    ...d.byteMismatches.map((m) => `  bytes differ: ${m}`),
  ].join('\n');
}
