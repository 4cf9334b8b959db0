import { MetadataErrorCodes, type ConflictRecord, type ConflictSide, type ListConflictsReply } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';
import { requireBucket } from '../bucket/bucket.queries';
import { MetadataError } from '../domain/shared/metadata.errors';

/** Conflicts in one ListConflicts answer when the request gives no limit, and the most it may ask for. */
export const LIST_CONFLICTS_LIMIT_DEFAULT = 1000;
export const LIST_CONFLICTS_LIMIT_MAX = 1000;
/** Longest conflict id a cursor (`after`) may name; ids are far shorter. */
const CONFLICT_ID_MAX_LENGTH = 1024;

/** A ListConflicts request after its fields were checked. */
export interface ConflictWindow {
  /** Resolved at or after (ISO-8601). */
  readonly since?: string;
  /** Resolved before (ISO-8601). */
  readonly until?: string;
  /** The conflict id the previous page ended with. */
  readonly after?: string;
  readonly limit: number;
}

/**
 * The request's filters checked and normalised, or InvalidArgument naming the one that is wrong:
 * since/until must be ISO-8601 instants, limit a whole number 1..LIST_CONFLICTS_LIMIT_MAX.
 */
export function conflictWindowOf(request: { readonly since?: unknown; readonly until?: unknown; readonly after?: unknown; readonly limit?: unknown }): ConflictWindow {
  const since = instantOf('since', request.since);
  const until = instantOf('until', request.until);
  const limit = request.limit === undefined || request.limit === null ? LIST_CONFLICTS_LIMIT_DEFAULT : request.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > LIST_CONFLICTS_LIMIT_MAX) {
    throw invalid(`limit must be a whole number from 1 to ${LIST_CONFLICTS_LIMIT_MAX}, not ${JSON.stringify(request.limit)}`);
  }
  const after = request.after === undefined || request.after === null || request.after === '' ? undefined : request.after;
  if (after !== undefined && (typeof after !== 'string' || after.length > CONFLICT_ID_MAX_LENGTH)) throw invalid('after must be the nextAfter of a previous page');
  return { ...(since ? { since } : {}), ...(until ? { until } : {}), ...(after ? { after } : {}), limit };
}

/** A date, or a date-time with its zone (Z or ±hh:mm): an instant whatever the server's time zone. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** ISO-8601 date-time (a date alone is midnight UTC), as the instant it names; absent stays absent. */
function instantOf(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const match = typeof value === 'string' ? ISO_INSTANT.exec(value) : null;
  const ms = match && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3])) ? Date.parse(value as string) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(`${name} must be an ISO-8601 date-time with its zone, such as 2026-12-01T00:00:00Z, not ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** 2026-02-31 is no date (Date.parse would roll it over into March). */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function invalid(message: string): MetadataError {
  return new MetadataError(MetadataErrorCodes.InvalidArgument, message);
}

/** The conflict log of a bucket (conflict_log), oldest resolution first. */
export class ConflictLogQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  /**
   * A page of the bucket's conflicts resolved in [since, until), in (resolvedAt, conflictId) order,
   * after the conflict `after` names. NoSuchBucket when the read model holds no such bucket;
   * InvalidArgument when `after` names no conflict of the bucket.
   */
  async listConflicts(bucket: string, window: ConflictWindow): Promise<ListConflictsReply> {
    await requireBucket(this.dataSource, this.t, bucket);
    const table = this.t('conflict_log');
    const values: unknown[] = [bucket];
    const where = ['bucket = $1'];
    if (window.after !== undefined) {
      const cursor: Row[] = await this.dataSource.query(`SELECT 1 FROM ${table} WHERE bucket = $1 AND conflict_id = $2`, [bucket, window.after]);
      if (cursor.length === 0) throw invalid(`after ${JSON.stringify(window.after)} names no conflict of bucket ${bucket}`);
      values.push(window.after);
      where.push(`(resolved_at, conflict_id) > (SELECT resolved_at, conflict_id FROM ${table} WHERE bucket = $1 AND conflict_id = $${values.length})`);
    }
    if (window.since !== undefined) {
      values.push(window.since);
      where.push(`resolved_at >= $${values.length}::timestamptz`);
    }
    if (window.until !== undefined) {
      values.push(window.until);
      where.push(`resolved_at < $${values.length}::timestamptz`);
    }
    values.push(window.limit + 1);
    const rows: Row[] = await this.dataSource.query(
      `SELECT conflict_id, bucket, key, winner, loser, loser_version_id, resolved_at FROM ${table}
       WHERE ${where.join(' AND ')} ORDER BY resolved_at, conflict_id LIMIT $${values.length}`,
      values,
    );
    const conflicts = rows.slice(0, window.limit).map(toConflictRecord);
    const more = rows.length > window.limit;
    return { conflicts, nextAfter: more ? conflicts[conflicts.length - 1].conflictId : null };
  }
}

function toConflictRecord(r: Row): ConflictRecord {
  return {
    conflictId: String(r['conflict_id']),
    bucket: String(r['bucket']),
    key: String(r['key']),
    winner: r['winner'] as ConflictSide,
    loser: r['loser'] as ConflictSide,
    loserVersionId: r['loser_version_id'] === null ? null : String(r['loser_version_id']),
    resolvedAt: toIso(r['resolved_at']),
  };
}
