import { MetadataErrorCodes, MetadataLimits, type ListObjectsOptions } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { MetadataError } from '../../domain/shared/metadata.errors';
import type { Row } from '../read-model-rows';
import type { KeyBound, ListingEntry, ListingPage, ListingWindow } from './paginate';

/** The request shape the key-ordered listings share; the view types live in @cairn/protocol (the RPC contract). */
export type ListObjectsRequest = ListObjectsOptions;

/** What a listing request asks for, max-keys clamped to S3's bound. */
export function listingWindow(request: ListObjectsRequest, markerKey: string | null): ListingWindow {
  const prefix = request.prefix ?? '';
  checkListingBound('prefix', prefix);
  if (markerKey !== null) checkListingBound('marker', markerKey);
  return { prefix, delimiter: request.delimiter ?? '', maxKeys: clampMaxKeys(request.maxKeys), markerKey };
}

/**
 * A prefix or marker goes into a Postgres query as text, which cannot hold NUL (the query failed,
 * answered 500); no key holds one either (validateObjectKey), so it is refused as a key with one is.
 */
function checkListingBound(name: 'prefix' | 'marker', value: string): void {
  if (value.includes('\u0000')) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `a listing's ${name} cannot contain NUL (U+0000): no key does`);
}

export function clampMaxKeys(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MetadataLimits.listMaxKeys;
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `max-keys ${maxKeys} is not a count`);
  return Math.min(maxKeys, MetadataLimits.listMaxKeys);
}

export function rowsOf<R>(entries: readonly ListingEntry<R>[]): R[] {
  return entries.flatMap((e) => (e.kind === 'row' ? [e.row] : []));
}

export function prefixesOf<R>(entries: readonly ListingEntry<R>[]): string[] {
  return entries.flatMap((e) => (e.kind === 'prefix' ? [e.prefix] : []));
}

export function entryKey<R>(entry: ListingEntry<R>, keyOf: (row: R) => string): string {
  return entry.kind === 'row' ? keyOf(entry.row) : entry.prefix;
}

/** Where a key-ordered listing reads: a table of the read model, the rows it keeps, their order. */
export interface KeyRangeTable {
  readonly table: string;
  readonly columns: string;
  /** Appended to the WHERE clause (starts with AND), '' for none. */
  readonly filter: string;
  readonly orderBy: string;
  /**
   * For a table with several rows per key: which rows of the key follow the previous row `w` (a
   * condition on the table's columns), and in what order (orderBy without the key).
   */
  readonly withinKey?: { readonly after: string; readonly orderBy: string };
}

/** Rows of a bucket with keys in [from, upperKey), in index order. */
export function fetchKeyRange(
  dataSource: DataSource,
  t: (table: string) => string,
  source: KeyRangeTable,
  bucket: string,
  from: KeyBound,
  upperKey: string | null,
  limit: number,
): Promise<Row[]> {
  const params: unknown[] = [bucket, from.key, limit];
  const upper = upperKey === null ? '' : `AND key < $${params.push(upperKey)} COLLATE "C"`;
  return dataSource.query(
    `SELECT ${source.columns} FROM ${t(source.table)}
     WHERE bucket = $1 ${source.filter} AND key ${from.inclusive ? '>=' : '>'} $2 COLLATE "C" ${upper}
     ORDER BY ${source.orderBy} LIMIT $3`,
    params,
  );
}

const MAX_CODE_POINT = 0x10ffff;
const LAST_BEFORE_SURROGATES = 0xd7ff;

/**
 * Whether Postgres can compute the place after a common prefix the way prefixUpperBound does: the
 * prefix ends with the delimiter, so that place is the delimiter's last code point plus one, which
 * chr() can make unless it is a surrogate or past U+10FFFF.
 */
export function canSkipPrefixesInSql(delimiter: string): boolean {
  const last = Array.from(delimiter).at(-1)?.codePointAt(0);
  return last !== undefined && last !== MAX_CODE_POINT && last !== LAST_BEFORE_SURROGATES;
}

/**
 * Rows of a bucket with keys in [from, upperKey), in listing order, where after a key that falls
 * under a common prefix comes the first row past that prefix: a loose index scan, one index probe
 * per row, in one statement (the rows beneath a prefix are never read, and a page of 1,000 common
 * prefixes is one round trip, not 1,000). A plain key's rows all follow, in `withinKey` order for a
 * table with several per key. The place after a common prefix is the prefix with its last code
 * point, the delimiter's, plus one (prefixUpperBound); after a plain key it is the key followed by
 * U+0001, the least string above it (text holds no U+0000).
 */
export function fetchKeyRangeSkippingPrefixes(
  dataSource: DataSource,
  t: (table: string) => string,
  source: KeyRangeTable,
  bucket: string,
  from: KeyBound,
  upperKey: string | null,
  limit: number,
  window: { readonly prefix: string; readonly delimiter: string },
): Promise<Row[]> {
  if (!canSkipPrefixesInSql(window.delimiter)) throw new Error(`a delimiter ending in U+${Array.from(window.delimiter).at(-1)?.codePointAt(0)?.toString(16)} cannot be skipped in SQL`);
  const params: unknown[] = [bucket, from.key, limit, window.prefix, window.delimiter];
  const upper = upperKey === null ? '' : `AND v.key < $${params.push(upperKey)} COLLATE "C"`;
  const delimiterAt = `strpos(substr(w.key, char_length($4) + 1), $5)`;
  const nextKey = `(CASE WHEN ${delimiterAt} > 0
      THEN left(w.key, char_length($4) + ${delimiterAt} + char_length($5) - 2) || chr(ascii(right($5, 1)) + 1)
      ELSE w.key || chr(1) END) COLLATE "C"`;
  const nextKeyRow = `SELECT ${source.columns} FROM ${t(source.table)} v
          WHERE v.bucket = $1 ${source.filter} AND v.key >= ${nextKey} ${upper}
          ORDER BY ${source.orderBy} LIMIT 1`;
  // Append stops at its first row: the key's next row when there is one, else the next key's first.
  const nextRow =
    source.withinKey === undefined
      ? nextKeyRow
      : `(SELECT ${source.columns} FROM ${t(source.table)} v
          WHERE v.bucket = $1 ${source.filter} AND v.key = w.key AND ${delimiterAt} = 0 AND ${source.withinKey.after}
          ORDER BY ${source.withinKey.orderBy} LIMIT 1)
         UNION ALL (${nextKeyRow})
         LIMIT 1`;
  return dataSource.query(
    `WITH RECURSIVE w AS (
       (SELECT ${source.columns} FROM ${t(source.table)} v
        WHERE v.bucket = $1 ${source.filter} AND v.key ${from.inclusive ? '>=' : '>'} $2 COLLATE "C" ${upper}
        ORDER BY ${source.orderBy} LIMIT 1)
       UNION ALL
       -- Unqualified columns inside resolve to v, the innermost table; w is the previous entry.
       (SELECT n.* FROM w CROSS JOIN LATERAL (${nextRow}) n)
     )
     SELECT * FROM w LIMIT $3`,
    params,
  );
}

/** A position inside a key's run of rows (after a version, after an upload of that key). */
export interface WithinKey {
  readonly kind: string;
  readonly key: string;
}

/**
 * Rows of a listing ordered within each key (versions, uploads), from `from` on: from inside a
 * key, the rest of that key's rows (`restOfKey`) first, then the keys after it.
 */
export async function fetchWithinKeyThenKeyRange<Position extends WithinKey>(
  dataSource: DataSource,
  t: (table: string) => string,
  source: KeyRangeTable,
  bucket: string,
  from: Position | KeyBound,
  upperKey: string | null,
  limit: number,
  restOfKey: (from: Position, limit: number) => Promise<Row[]>,
): Promise<Row[]> {
  const rows: Row[] = isKeyBound(from) ? [] : [...(await restOfKey(from, limit))];
  const keyFrom: KeyBound = isKeyBound(from) ? from : { kind: 'key', key: from.key, inclusive: false };
  if (rows.length < limit) rows.push(...(await fetchKeyRange(dataSource, t, source, bucket, keyFrom, upperKey, limit - rows.length)));
  return rows;
}

function isKeyBound(from: WithinKey | KeyBound): from is KeyBound {
  return from.kind === 'key';
}

/** Where a truncated listing of rows within keys resumes: the last row's key and its own marker (`rowMarkers`), or the last common prefix. */
export function nextMarkersOf<Markers extends object>(page: ListingPage<Row>, rowMarkers: (row: Row) => Markers): { readonly nextKeyMarker?: string } | ({ readonly nextKeyMarker: string } & Markers) {
  const last = page.entries.at(-1);
  if (!page.isTruncated || !last) return {};
  return last.kind === 'row' ? { nextKeyMarker: String(last.row['key']), ...rowMarkers(last.row) } : { nextKeyMarker: last.prefix };
}
