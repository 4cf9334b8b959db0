import type { BucketWire, ConflictRecord, ReplicationLagView } from './admin-api.types';
import { formatDuration } from './duration';
import { renderTable } from './format';
import { usageError } from './exit-codes';

export const REPLICATION_MODES = ['local', 'active-passive', 'active-active'] as const;
export type ReplicationModeArg = (typeof REPLICATION_MODES)[number];
/** A region id as the services take it (CAIRN_REGION): lowercase letters, digits and "-". */
const REGION_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The most conflicts metadata answers in one page. */
export const CONFLICTS_LIMIT_MAX = 1000;

/** The body of PUT /admin/buckets/:name/replication from --mode and --home, or a usage error. */
export function replicationBody(mode: ReplicationModeArg, home: string | undefined): { mode: ReplicationModeArg; homeRegion?: string } {
  if (mode === 'active-passive') {
    if (home === undefined) throw usageError('--home <region> is required with --mode active-passive (the region that takes the writes)');
    if (!REGION_ID_PATTERN.test(home)) throw usageError(`--home must be a region id such as region-1 (lowercase letters, digits and "-"), not "${home}"`);
    return { mode, homeRegion: home };
  }
  if (home !== undefined) throw usageError(`--home is only for --mode active-passive, not ${mode}`);
  return { mode };
}

/** "photos: active-passive (home region-2)". */
export function describeReplication(bucket: BucketWire): string {
  return `${bucket.name}: ${replicationCell(bucket) ?? 'replication unknown (this metadata does not say)'}`;
}

/** "active-passive (home region-2)", "local"; null when the metadata does not say. */
export function replicationCell(bucket: BucketWire): string | null {
  const r = bucket.replication;
  if (!r) return null;
  return r.mode === 'active-passive' ? `${r.mode} (home ${r.homeRegion})` : r.mode;
}

/** An ISO-8601 instant for --since / --until (a date alone is midnight UTC), or a usage error. */
export function isoArg(name: string, text: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw usageError(`${name} must be an ISO-8601 date or date-time with its zone, e.g. 2026-12-01 or 2026-12-01T09:30:00Z, not "${text}"`);
  return new Date(ms).toISOString();
}

const sideText = (side: ConflictRecord['winner']) => `${side.region} ${side.kind === 'version' ? '' : `${side.kind} `}${side.versionId}`;

/** A bucket's conflicts, one line each: when, which key, who won and lost, where the loser went. */
export function conflictsTable(conflicts: readonly ConflictRecord[]): string {
  return renderTable(
    ['resolved', 'key', 'winner', 'loser', 'loser kept as', 'conflict'],
    conflicts.map((c) => [c.resolvedAt, c.key, sideText(c.winner), sideText(c.loser), c.loserVersionId ?? '(nothing: a delete)', c.conflictId]),
    '(no conflicts)',
  );
}

/**
 * Each replication link (source region's changes applied in the target) with its backlog and
 * lag (the measured RPO), then the buckets that have changes pending.
 */
export function lagTables(links: readonly ReplicationLagView[]): string {
  const main = renderTable(
    ['source', 'target', 'link', 'pending', 'lag', 'applied', 'last applied'],
    links.map((l) => [l.source, l.target, l.connected ? 'up' : 'DOWN', l.pendingEvents, formatDuration(l.lagSeconds), l.appliedEvents, l.lastAppliedAt ?? 'never']),
    '(no replication links: no bucket replicates to or from this region)',
  );
  const sections = [main];
  // Why a link is down, as the target's sync tells it (a sync older than the link status sends none).
  const down = links.filter((l) => !l.connected && l.link !== undefined).map((l) => [l.source, l.target, l.link.state, l.link.lastError ?? '-'] as const);
  if (down.length > 0) sections.push(`Links down\n${renderTable(['source', 'target', 'state', 'last error'], down)}`);
  const behind = links.flatMap((l) => l.buckets.filter((b) => b.pendingEvents > 0).map((b) => [l.source, l.target, b.bucket, b.pendingEvents, formatDuration(b.lagSeconds)] as const));
  if (behind.length > 0) sections.push(`Buckets behind\n${renderTable(['source', 'target', 'bucket', 'pending', 'lag'], behind)}`);
  return sections.join('\n\n');
}
