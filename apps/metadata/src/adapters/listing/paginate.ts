import { compareKeys, prefixUpperBound } from './key-order';

/** Where a listing resumes: at or after a key, or inside a key's run of rows (versions, uploads). */
export type KeyBound = { readonly kind: 'key'; readonly key: string; readonly inclusive: boolean };

export interface ListingWindow {
  readonly prefix: string;
  /** Empty for no delimiter. */
  readonly delimiter: string;
  readonly maxKeys: number;
  /** Common prefixes at or before this key were returned by an earlier page (S3 marker semantics). */
  readonly markerKey: string | null;
}

export type ListingEntry<Row> = { readonly kind: 'row'; readonly row: Row } | { readonly kind: 'prefix'; readonly prefix: string };

export interface ListingPage<Row> {
  readonly entries: readonly ListingEntry<Row>[];
  readonly isTruncated: boolean;
}

export interface ListingSource<Row, Position> {
  /** Up to `limit` rows from `from` on, in listing order, with keys below `upperKey` when it is set. */
  fetch(from: Position | KeyBound, upperKey: string | null, limit: number): Promise<readonly Row[]>;
  /**
   * Up to `limit` rows from `from` on, in listing order, where the row after one that falls under a
   * common prefix (of `window`'s prefix and delimiter) is the first row past that prefix. A
   * delimiter listing then costs one statement a page, not one per common prefix.
   */
  fetchSkippingPrefixes?(from: KeyBound, upperKey: string | null, limit: number, window: Pick<ListingWindow, 'prefix' | 'delimiter'>): Promise<readonly Row[]>;
  keyOf(row: Row): string;
  /** Where to resume right after `row`. */
  after(row: Row): Position | KeyBound;
}

/**
 * With a delimiter, any row may start a common prefix that makes the rest of its batch useless, so
 * batches start at one row after each seek and double while rows keep being plain keys.
 */
export const DELIMITED_FETCH_ROWS_MAX = 256;
/**
 * Once a common prefix shows up, a source that can skip prefixes itself walks entry by entry (an
 * index probe each, far dearer than a row of a range but far cheaper than a round trip per
 * prefix): first this many entries, doubling while at least half of what it walked were prefixes;
 * when keys dominate, plain range batches take over again.
 */
export const DELIMITED_WALK_ENTRIES_FIRST = 16;

/**
 * S3 listing over any ordered source: prefix, delimiter with common prefixes, max-keys counting
 * rows and prefixes together, IsTruncated. A common prefix is reported once and then skipped by
 * seeking to its upper bound, so a delimiter listing never reads the keys beneath a prefix.
 */
export async function paginate<Row, Position>(
  source: ListingSource<Row, Position>,
  window: ListingWindow,
  start: Position | KeyBound | null,
): Promise<ListingPage<Row>> {
  const entries: ListingEntry<Row>[] = [];
  if (window.maxKeys <= 0) return { entries, isTruncated: false };
  const upperKey = window.prefix === '' ? null : prefixUpperBound(window.prefix);
  let from: Position | KeyBound = start ?? { kind: 'key', key: window.prefix, inclusive: true };
  let delimitedBatch = 1;
  /** 0 while reading ranges; else how many entries the next walk past prefixes asks for. */
  let walkEntries = 0;
  for (;;) {
    const wanted = window.maxKeys - entries.length + 1;
    const walking = walkEntries > 0 && isKeyBound(from);
    const limit = window.delimiter === '' ? wanted : Math.min(wanted, walking ? walkEntries : delimitedBatch);
    const rows = walking ? await source.fetchSkippingPrefixes!(from as KeyBound, upperKey, limit, window) : await source.fetch(from, upperKey, limit);
    let seeked = false;
    let prefixRows = 0;
    for (const row of rows) {
      const key = source.keyOf(row);
      const commonPrefix = commonPrefixOf(key, window);
      if (commonPrefix !== null) {
        prefixRows += 1;
        const alreadyListed = window.markerKey !== null && compareKeys(commonPrefix, window.markerKey) <= 0;
        if (!alreadyListed) {
          if (entries.length === window.maxKeys) return { entries, isTruncated: true };
          entries.push({ kind: 'prefix', prefix: commonPrefix });
        }
        const next = prefixUpperBound(commonPrefix);
        if (next === null || (upperKey !== null && compareKeys(next, upperKey) >= 0)) return { entries, isTruncated: false };
        from = { kind: 'key', key: next, inclusive: true };
        // A walk's next row is already past the prefix.
        if (walking) continue;
        seeked = true;
        delimitedBatch = 1;
        if (source.fetchSkippingPrefixes) walkEntries = DELIMITED_WALK_ENTRIES_FIRST;
        break;
      }
      if (entries.length === window.maxKeys) return { entries, isTruncated: true };
      entries.push({ kind: 'row', row });
      from = source.after(row);
    }
    if (!seeked && rows.length < limit) return { entries, isTruncated: false };
    if (walking) walkEntries = prefixRows * 2 >= rows.length ? walkEntries * 2 : 0;
    else if (!seeked) delimitedBatch = Math.min(delimitedBatch * 2, DELIMITED_FETCH_ROWS_MAX);
  }
}

function isKeyBound<Position>(from: Position | KeyBound): from is KeyBound {
  return (from as { kind?: unknown }).kind === 'key';
}

function commonPrefixOf(key: string, window: ListingWindow): string | null {
  if (window.delimiter === '') return null;
  const at = key.indexOf(window.delimiter, window.prefix.length);
  return at < 0 ? null : key.slice(0, at + window.delimiter.length);
}

/**
 * Where a listing starts given an exclusive marker key: after the marker, but never before the
 * prefix. Null when the marker is past everything the prefix can hold.
 */
export function startAfterMarker(prefix: string, markerKey: string | null): KeyBound | 'empty' {
  if (markerKey === null || markerKey === '' || compareKeys(markerKey, prefix) < 0) return { kind: 'key', key: prefix, inclusive: true };
  const upper = prefix === '' ? null : prefixUpperBound(prefix);
  if (upper !== null && compareKeys(markerKey, upper) >= 0) return 'empty';
  return { kind: 'key', key: markerKey, inclusive: false };
}
