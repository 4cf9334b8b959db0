import {
  MetadataErrorCodes,
  type ListObjectsResult,
  type ListObjectsV1Result,
  type ListObjectsV2Result,
  type ListVersionsResult,
  type StorageClass,
  type VersionSummary,
} from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { canSkipPrefixesInSql, entryKey, fetchKeyRange, fetchKeyRangeSkippingPrefixes, fetchWithinKeyThenKeyRange, listingWindow, nextMarkersOf, prefixesOf, rowsOf, type KeyRangeTable, type ListObjectsRequest } from '../adapters/listing/listing-query';
import { paginate, startAfterMarker, type KeyBound, type ListingEntry, type ListingSource } from '../adapters/listing/paginate';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';
import { requireBucket } from '../bucket/bucket.queries';
import { MetadataError } from '../domain/shared/metadata.errors';

const CONTINUATION_TOKEN_VERSION = 1;
/** What a version id can look like: 'null', or the hex of an HLC and random bytes (MetadataCommandContext.newVersionId). */
const WELL_FORMED_VERSION_ID = /^(null|[0-9a-f]{24,64})$/;
const VERSION_SUMMARY_COLUMNS = 'key, version_id, is_current, is_delete_marker, size_bytes, etag, last_modified, storage_class, sequence';

/** ListObjects: current, live versions in key order (the object_versions_current_idx index). */
const CURRENT_VERSIONS: KeyRangeTable = {
  table: 'object_versions',
  columns: 'key, version_id, size_bytes, etag, last_modified, storage_class',
  filter: 'AND is_current AND NOT is_delete_marker',
  orderBy: 'key',
};
/** ListObjectVersions: keys in order, each key's versions newest first (object_versions_listing_idx). */
const ALL_VERSIONS: KeyRangeTable = {
  table: 'object_versions',
  columns: VERSION_SUMMARY_COLUMNS,
  filter: '',
  orderBy: 'key, sequence DESC',
  withinKey: { after: 'sequence < w.sequence', orderBy: 'sequence DESC' },
};

type VersionPosition = { readonly kind: 'version'; readonly key: string; readonly sequence: string };

/**
 * The object listings, as parameterised SQL over the read model (object_versions). Every listing
 * walks an index in key order from a seek position (never OFFSET, never a scan of the bucket).
 * HEAD and GET read a key's own subject instead (ObjectCommandsHandler.head).
 */
export class ObjectKeyQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  /** ListObjects (v1): marker is exclusive; NextMarker only with a delimiter. */
  async listObjects(bucket: string, request: ListObjectsRequest & { readonly marker?: string }): Promise<ListObjectsV1Result> {
    const marker = request.marker || null;
    const result = await this.listCurrent(bucket, request, marker);
    const last = result.entries.at(-1);
    const nextMarker = result.isTruncated && request.delimiter && last ? entryKey(last, (r) => String(r['key'])) : undefined;
    return { ...summarise(result), ...(nextMarker === undefined ? {} : { nextMarker }) };
  }

  /** ListObjectsV2: an opaque continuation token takes precedence over start-after. */
  async listObjectsV2(
    bucket: string,
    request: ListObjectsRequest & { readonly startAfter?: string; readonly continuationToken?: string },
  ): Promise<ListObjectsV2Result> {
    const marker = request.continuationToken ? decodeContinuationToken(request.continuationToken) : request.startAfter || null;
    const result = await this.listCurrent(bucket, request, marker);
    const last = result.entries.at(-1);
    const summary = summarise(result);
    return {
      ...summary,
      keyCount: result.entries.length,
      ...(result.isTruncated && last ? { nextContinuationToken: encodeContinuationToken(entryKey(last, (r) => String(r['key']))) } : {}),
    };
  }

  async listObjectVersions(
    bucket: string,
    request: ListObjectsRequest & { readonly keyMarker?: string; readonly versionIdMarker?: string },
  ): Promise<ListVersionsResult> {
    await requireBucket(this.dataSource, this.t, bucket);
    const window = listingWindow(request, request.keyMarker || null);
    if (request.versionIdMarker && !request.keyMarker) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a version-id-marker needs a key-marker');
    }
    let start: VersionPosition | KeyBound | 'empty' = startAfterMarker(window.prefix, window.markerKey);
    if (request.keyMarker && request.versionIdMarker && start !== 'empty' && !start.inclusive) {
      const rows: Row[] = await this.dataSource.query(
        `SELECT sequence FROM ${this.t('object_versions')} WHERE bucket = $1 AND key = $2 AND version_id = $3`,
        [bucket, request.keyMarker, request.versionIdMarker],
      );
      if (rows.length > 0) start = { kind: 'version', key: request.keyMarker, sequence: String(rows[0]['sequence']) };
      else if (WELL_FORMED_VERSION_ID.test(request.versionIdMarker)) {
        // The marker's version was deleted since the page that named it: emptying a bucket page by
        // page (boto3's object_versions.delete(), DeleteObjects of each page) deletes every version
        // of a page before asking for the next. S3 goes on from where the marker was; the key's
        // remaining versions are then the ones no page listed yet, so the listing resumes with them.
        start = { kind: 'key', key: request.keyMarker, inclusive: true };
      } else throw new MetadataError(MetadataErrorCodes.InvalidArgument, `version-id-marker ${request.versionIdMarker} is not a version id`);
    }
    if (start === 'empty') return { versions: [], commonPrefixes: [], isTruncated: false };
    const source: ListingSource<Row, VersionPosition> = {
      keyOf: (row) => String(row['key']),
      after: (row) => ({ kind: 'version', key: String(row['key']), sequence: String(row['sequence']) }),
      fetch: (from, upperKey, limit) =>
        fetchWithinKeyThenKeyRange(this.dataSource, this.t, ALL_VERSIONS, bucket, from, upperKey, limit, (within, rest) =>
          this.dataSource.query(
            `SELECT ${VERSION_SUMMARY_COLUMNS} FROM ${this.t('object_versions')}
             WHERE bucket = $1 AND key = $2 AND sequence < $3 ORDER BY sequence DESC LIMIT $4`,
            [bucket, within.key, within.sequence, rest],
          ),
        ),
      ...(canSkipPrefixesInSql(window.delimiter) && {
        fetchSkippingPrefixes: (from: KeyBound, upperKey: string | null, limit: number) =>
          fetchKeyRangeSkippingPrefixes(this.dataSource, this.t, ALL_VERSIONS, bucket, from, upperKey, limit, window),
      }),
    };
    const page = await paginate(source, window, start);
    const next = nextMarkersOf(page, (row) => ({ nextVersionIdMarker: String(row['version_id']) }));
    return {
      versions: rowsOf(page.entries).map(toVersionSummary),
      commonPrefixes: prefixesOf(page.entries),
      isTruncated: page.isTruncated,
      ...next,
    };
  }

  private async listCurrent(bucket: string, request: ListObjectsRequest, marker: string | null) {
    await requireBucket(this.dataSource, this.t, bucket);
    const window = listingWindow(request, marker);
    const start = startAfterMarker(window.prefix, window.markerKey);
    if (start === 'empty') return { entries: [], isTruncated: false };
    const source: ListingSource<Row, KeyBound> = {
      keyOf: (row) => String(row['key']),
      after: (row) => ({ kind: 'key', key: String(row['key']), inclusive: false }),
      fetch: (from, upperKey, limit) => fetchKeyRange(this.dataSource, this.t, CURRENT_VERSIONS, bucket, from, upperKey, limit),
      ...(canSkipPrefixesInSql(window.delimiter) && {
        fetchSkippingPrefixes: (from: KeyBound, upperKey: string | null, limit: number) =>
          fetchKeyRangeSkippingPrefixes(this.dataSource, this.t, CURRENT_VERSIONS, bucket, from, upperKey, limit, window),
      }),
    };
    return paginate(source, window, start);
  }
}

function summarise(page: { entries: readonly ListingEntry<Row>[]; isTruncated: boolean }): ListObjectsResult {
  return {
    contents: rowsOf(page.entries).map((r) => ({
      key: String(r['key']),
      versionId: String(r['version_id']),
      sizeBytes: Number(r['size_bytes']),
      etag: String(r['etag']),
      lastModified: toIso(r['last_modified']),
      storageClass: r['storage_class'] as StorageClass,
    })),
    commonPrefixes: prefixesOf(page.entries),
    isTruncated: page.isTruncated,
  };
}

function toVersionSummary(r: Row): VersionSummary {
  return {
    key: String(r['key']),
    versionId: String(r['version_id']),
    isLatest: Boolean(r['is_current']),
    isDeleteMarker: Boolean(r['is_delete_marker']),
    sizeBytes: Number(r['size_bytes']),
    etag: r['etag'] === null ? null : String(r['etag']),
    lastModified: toIso(r['last_modified']),
    storageClass: (r['storage_class'] as StorageClass | null) ?? null,
  };
}

/** Opaque to clients; it carries the last key or common prefix of the page. */
function encodeContinuationToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: CONTINUATION_TOKEN_VERSION, after: lastKey }), 'utf8').toString('base64url');
}

function decodeContinuationToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; after?: unknown };
    if (parsed.v === CONTINUATION_TOKEN_VERSION && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // falls through to the S3 error below
  }
  throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'the continuation token provided is incorrect');
}
