import { renderTable } from './format';
import { parseDurationMs } from './duration';
import { usageError } from './exit-codes';

/**
 * A moment given on the command line: an ISO-8601 date-time with its zone (2026-12-02T16:00:00Z),
 * or how long ago ("10m", "2h", "1d", "90s", optionally followed by "ago"). Answers an ISO instant.
 */
export function momentArg(name: string, text: string, nowMs: number): string {
  const trimmed = text.trim();
  const relative = /^(.+?)\s*(ago)?$/.exec(trimmed);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  } else if (relative && /^(\d+(ms|[smhd]))+$/.test(relative[1]!)) {
    return new Date(nowMs - parseDurationMs(relative[1]!)).toISOString();
  }
  throw usageError(`${name} must be an ISO-8601 date-time with its zone (2026-12-02T16:00:00Z) or a time ago (10m, 2h, 1d), not "${text}"`);
}

export interface HistoryObjectWire {
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly storageClass: string | null;
}

export interface HistoryListWire {
  readonly bucket: string;
  readonly at: string;
  readonly objects: readonly HistoryObjectWire[];
  readonly nextAfter: string | null;
  readonly asOfSequence: number;
  /** Where the history came from (the scheduler's listing says; metadata's own does not). */
  readonly source?: HistorySourceWire;
}

export type HistorySourceWire = { readonly kind: 'live' } | { readonly kind: 'backup'; readonly target: string; readonly backupId: string; readonly liveFromSequence: number | null };

/** " from backup <id> of <target>[ and the live log after it]", or nothing for the live log. */
export function sourceNote(source: HistorySourceWire | undefined): string {
  if (source?.kind !== 'backup') return '';
  return ` from backup ${source.backupId} of ${source.target}${source.liveFromSequence === null ? '' : ' and the live log after it'}`;
}

export function historyTable(reply: HistoryListWire): string {
  return renderTable(
    ['key', 'size', 'etag', 'last modified', 'version'],
    reply.objects.map((o) => [o.key, String(o.sizeBytes), o.etag, o.lastModified, o.versionId]),
    `(no objects in ${reply.bucket} at ${reply.at})`,
  );
}

export interface RestoreReportWire {
  readonly id: string;
  readonly bucket: string;
  readonly at: string;
  readonly prefix?: string;
  readonly to?: string;
  readonly state: 'queued' | 'running' | 'done' | 'failed';
  readonly error?: string;
  readonly progress: { readonly doneItems: number; readonly totalItems: number; readonly etaSeconds: number | null };
  readonly puts: number;
  readonly deletes: number;
  readonly bytesRestored: number;
  readonly bytesCopied: number;
  readonly failures: number;
  readonly failureSample: readonly string[];
  /** Where the history came from; absent from schedulers older than restores from backups. */
  readonly source?: HistorySourceWire;
}

/** One line of a restore job: where it is, what it did. */
export function restoreLine(r: RestoreReportWire): string {
  const target = r.to && r.to !== r.bucket ? ` → ${r.to}` : '';
  const eta = r.state === 'running' && r.progress.etaSeconds !== null ? `, ETA ${Math.ceil(r.progress.etaSeconds)}s` : '';
  const from = sourceNote(r.source);
  return (
    `restore ${r.id} ${r.state}: ${r.bucket}${r.prefix ? `/${r.prefix}*` : ''}${target} as of ${r.at}${from} — ` +
    `${r.progress.doneItems}/${r.progress.totalItems} keys${eta}, ${r.puts} put back (${r.bytesRestored} bytes, ${r.bytesCopied} copied), ${r.deletes} deleted, ${r.failures} failed`
  );
}
