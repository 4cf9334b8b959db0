import { MetadataErrorCodes, MetadataLimits, type ListObjectsOptions } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { MetadataError } from '../../domain/shared/metadata.errors';
import type { Row } from '../read-model-rows';
import type { KeyBound, ListingEntry, ListingWindow } from './paginate';

/** The request shape the key-ordered listings share; the view types live in @cairn/protocol (the RPC contract). */
export type ListObjectsRequest = ListObjectsOptions;

/** What a listing request asks for, max-keys clamped to S3's bound. */
export function listingWindow(request: ListObjectsRequest, markerKey: string | null): ListingWindow {
  return { prefix: request.prefix ?? '', delimiter: request.delimiter ?? '', maxKeys: clampMaxKeys(request.maxKeys), markerKey };
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
