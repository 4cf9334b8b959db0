import {
  MetadataErrorCodes,
  MetadataLimits,
  replicationFactorOf,
  ROOT_ACCESS_KEY_OWNER,
  type AccessKeyView,
  type ChunkReference,
  type BucketView,
  type Checksums,
  type ListObjectsOptions,
  type ListObjectsResult,
  type ListObjectsV1Result,
  type ListObjectsV2Result,
  type ListPartsResult,
  type ListUploadsResult,
  type ListVersionsResult,
  type ReplicationConfig,
  type StorageClass,
  type StorageNodeView,
  type Tag,
  type VersioningStatus,
  type VersionSummary,
} from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { MetadataError } from '../domain/shared/metadata.errors';
import { compareKeys } from './listing/key-order';
import { paginate, startAfterMarker, type KeyBound, type ListingEntry, type ListingSource } from './listing/paginate';
import { schemaOf, tableIn } from './metadata-schema';

/** S3 answers at most this many buckets in one ListBuckets. */
export const LIST_BUCKETS_MAX = 10_000;
/** Bound on one access-key listing. */
export const ACCESS_KEYS_LIST_MAX = 10_000;
const CONTINUATION_TOKEN_VERSION = 1;

/** The request shape the listings share; the view types live in @cairn/protocol (the RPC contract). */
export type ListObjectsRequest = ListObjectsOptions;

type Row = Record<string, unknown>;

/** Hashes in (after, before), at most `limit` (validated by the RPC edge). */
export interface ChunkReferenceRange {
  /** '' for the start of the hash space. */
  readonly after: string;
  /** null for no upper bound. */
  readonly before: string | null;
  readonly limit: number;
}

export interface ChunkReferencePage {
  readonly chunks: readonly ChunkReference[];
  readonly nextAfter: string | null;
  /** The checkpoint the page is exactly as of. */
  readonly asOfSequence: number;
}
type VersionPosition = { readonly kind: 'version'; readonly key: string; readonly sequence: string };
type UploadPosition = { readonly kind: 'upload'; readonly key: string; readonly sequence: string; readonly uploadId: string };

/**
 * An upload row that is still in progress. A completed upload's rows stay until the version made
 * from it is projected (they name its chunks until then), but no listing shows them.
 */
const UPLOAD_IN_PROGRESS = 'completed_sequence IS NULL';

const VERSION_SUMMARY_COLUMNS = 'key, version_id, is_current, is_delete_marker, size_bytes, etag, last_modified, storage_class, sequence';

/**
 * The metadata queries, as parameterised SQL over the read model. Every listing walks an index in
 * key order from a seek position (never OFFSET, never a scan of the bucket).
 */
export class MetadataQueryAdapter {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async getBucket(name: string): Promise<BucketView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('buckets')} WHERE name = $1`, [name]);
    return rows.length === 0 ? null : toBucketView(rows[0]);
  }

  async listBuckets(owner?: string): Promise<BucketView[]> {
    const rows: Row[] =
      owner === undefined
        ? await this.dataSource.query(`SELECT * FROM ${this.t('buckets')} ORDER BY name LIMIT $1`, [LIST_BUCKETS_MAX])
        : await this.dataSource.query(`SELECT * FROM ${this.t('buckets')} WHERE owner = $1 ORDER BY name LIMIT $2`, [owner, LIST_BUCKETS_MAX]);
    return rows.map(toBucketView);
  }

  /** Versions and delete markers in a bucket, counted up to `cap` (DeleteBucket needs only zero or not). */
  async countBucketVersions(bucket: string, cap: number): Promise<number> {
    const [row]: Row[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${this.t('object_versions')} WHERE bucket = $1 LIMIT $2) AS v`,
      [bucket, cap],
    );
    return Number(row['n']);
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
    await this.requireBucket(bucket);
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
      if (rows.length === 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `version-id-marker ${request.versionIdMarker} is not a version of ${request.keyMarker}`);
      start = { kind: 'version', key: request.keyMarker, sequence: String(rows[0]['sequence']) };
    }
    if (start === 'empty') return { versions: [], commonPrefixes: [], isTruncated: false };
    const source: ListingSource<Row, VersionPosition> = {
      keyOf: (row) => String(row['key']),
      after: (row) => ({ kind: 'version', key: String(row['key']), sequence: String(row['sequence']) }),
      fetch: async (from, upperKey, limit) => {
        const rows: Row[] = [];
        let keyFrom: KeyBound = from.kind === 'key' ? from : { kind: 'key', key: from.key, inclusive: false };
        if (from.kind === 'version') {
          rows.push(
            ...(await this.dataSource.query(
              `SELECT ${VERSION_SUMMARY_COLUMNS} FROM ${this.t('object_versions')}
               WHERE bucket = $1 AND key = $2 AND sequence < $3 ORDER BY sequence DESC LIMIT $4`,
              [bucket, from.key, from.sequence, limit],
            )),
          );
          keyFrom = { kind: 'key', key: from.key, inclusive: false };
        }
        if (rows.length < limit) rows.push(...(await this.fetchKeyRange('object_versions', VERSION_SUMMARY_COLUMNS, '', 'key, sequence DESC', bucket, keyFrom, upperKey, limit - rows.length)));
        return rows;
      },
    };
    const page = await paginate(source, window, start);
    const last = page.entries.at(-1);
    const next =
      page.isTruncated && last
        ? last.kind === 'row'
          ? { nextKeyMarker: String(last.row['key']), nextVersionIdMarker: String(last.row['version_id']) }
          : { nextKeyMarker: last.prefix }
        : {};
    return {
      versions: rowsOf(page.entries).map(toVersionSummary),
      commonPrefixes: prefixesOf(page.entries),
      isTruncated: page.isTruncated,
      ...next,
    };
  }

  /** In-progress uploads, by key, then by initiation order within a key. */
  async listMultipartUploads(
    bucket: string,
    request: ListObjectsRequest & { readonly keyMarker?: string; readonly uploadIdMarker?: string },
  ): Promise<ListUploadsResult> {
    await this.requireBucket(bucket);
    const window = listingWindow(request, request.keyMarker || null);
    let start: UploadPosition | KeyBound | 'empty' = startAfterMarker(window.prefix, window.markerKey);
    if (request.keyMarker && request.uploadIdMarker && start !== 'empty' && !start.inclusive) {
      const rows: Row[] = await this.dataSource.query(
        `SELECT initiated_sequence FROM ${this.t('multipart_uploads')} WHERE bucket = $1 AND key = $2 AND upload_id = $3 AND ${UPLOAD_IN_PROGRESS}`,
        [bucket, request.keyMarker, request.uploadIdMarker],
      );
      // An upload completed or aborted since the last page leaves its key's later uploads to list.
      start =
        rows.length === 0
          ? { kind: 'key', key: request.keyMarker, inclusive: true }
          : { kind: 'upload', key: request.keyMarker, sequence: String(rows[0]['initiated_sequence']), uploadId: request.uploadIdMarker };
    }
    if (start === 'empty') return { uploads: [], commonPrefixes: [], isTruncated: false };
    const columns = 'key, upload_id, owner, initiated_at, initiated_sequence, storage_class';
    const source: ListingSource<Row, UploadPosition> = {
      keyOf: (row) => String(row['key']),
      after: (row) => ({ kind: 'upload', key: String(row['key']), sequence: String(row['initiated_sequence']), uploadId: String(row['upload_id']) }),
      fetch: async (from, upperKey, limit) => {
        const rows: Row[] = [];
        let keyFrom: KeyBound = from.kind === 'key' ? from : { kind: 'key', key: from.key, inclusive: false };
        if (from.kind === 'upload') {
          rows.push(
            ...(await this.dataSource.query(
              `SELECT ${columns} FROM ${this.t('multipart_uploads')}
               WHERE bucket = $1 AND key = $2 AND (initiated_sequence, upload_id) > ($3::bigint, $4::text COLLATE "C") AND ${UPLOAD_IN_PROGRESS}
               ORDER BY initiated_sequence, upload_id LIMIT $5`,
              [bucket, from.key, from.sequence, from.uploadId, limit],
            )),
          );
          keyFrom = { kind: 'key', key: from.key, inclusive: false };
        }
        if (rows.length < limit) rows.push(...(await this.fetchKeyRange('multipart_uploads', columns, `AND ${UPLOAD_IN_PROGRESS}`, 'key, initiated_sequence, upload_id', bucket, keyFrom, upperKey, limit - rows.length)));
        return rows;
      },
    };
    const page = await paginate(source, window, start);
    const last = page.entries.at(-1);
    const next =
      page.isTruncated && last
        ? last.kind === 'row'
          ? { nextKeyMarker: String(last.row['key']), nextUploadIdMarker: String(last.row['upload_id']) }
          : { nextKeyMarker: last.prefix }
        : {};
    return {
      uploads: rowsOf(page.entries).map((r) => ({
        key: String(r['key']),
        uploadId: String(r['upload_id']),
        owner: String(r['owner']),
        initiatedAt: toIso(r['initiated_at']),
        storageClass: r['storage_class'] as StorageClass,
      })),
      commonPrefixes: prefixesOf(page.entries),
      isTruncated: page.isTruncated,
      ...next,
    };
  }

  async listParts(bucket: string, uploadId: string, request: { readonly partNumberMarker?: number; readonly maxParts?: number } = {}): Promise<ListPartsResult> {
    await this.requireBucket(bucket);
    const uploads: Row[] = await this.dataSource.query(`SELECT 1 FROM ${this.t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2 AND ${UPLOAD_IN_PROGRESS}`, [
      bucket,
      uploadId,
    ]);
    if (uploads.length === 0) throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${uploadId} does not exist`, { uploadId });
    const maxParts = clampMaxKeys(request.maxParts);
    const rows: Row[] = await this.dataSource.query(
      `SELECT part_number, etag, size_bytes, last_modified, checksums FROM ${this.t('multipart_parts')}
       WHERE bucket = $1 AND upload_id = $2 AND part_number > $3 ORDER BY part_number LIMIT $4`,
      [bucket, uploadId, request.partNumberMarker ?? 0, maxParts + 1],
    );
    const parts = rows.slice(0, maxParts).map((r) => ({
      partNumber: Number(r['part_number']),
      etag: String(r['etag']),
      sizeBytes: Number(r['size_bytes']),
      lastModified: toIso(r['last_modified']),
      checksums: (r['checksums'] ?? {}) as Checksums,
    }));
    const last = parts.at(-1);
    const isTruncated = rows.length > maxParts && last !== undefined;
    return { parts, isTruncated, ...(isTruncated ? { nextPartNumberMarker: last.partNumber } : {}) };
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('access_keys')} WHERE access_key_id = $1`, [accessKeyId]);
    return rows[0] ? toAccessKeyView(rows[0]) : null;
  }

  /** Every key (of one owner, when given), ordered by id, secrets blanked: listings never carry them. */
  async listAccessKeys(owner?: string): Promise<AccessKeyView[]> {
    const rows: Row[] =
      owner === undefined
        ? await this.dataSource.query(`SELECT * FROM ${this.t('access_keys')} ORDER BY access_key_id LIMIT $1`, [ACCESS_KEYS_LIST_MAX])
        : await this.dataSource.query(`SELECT * FROM ${this.t('access_keys')} WHERE owner = $1 ORDER BY access_key_id LIMIT $2`, [owner, ACCESS_KEYS_LIST_MAX]);
    return rows.map((r) => ({ ...toAccessKeyView(r), secretAccessKey: '' }));
  }

  async listStorageNodes(): Promise<StorageNodeView[]> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('storage_nodes')} ORDER BY node_id`);
    return rows.map((r) => ({
      nodeId: String(r['node_id']),
      zone: String(r['zone']),
      host: String(r['host']),
      address: String(r['address']),
      weight: Number(r['weight']),
      capacityBytes: Number(r['capacity_bytes']),
      draining: Boolean(r['draining']),
      joinedAt: toIso(r['joined_at']),
      epoch: Number(r['epoch']),
    }));
  }

  /** The ring epoch the projection reached; 0 before any membership change. */
  async ringEpoch(): Promise<number> {
    const rows: Row[] = await this.dataSource.query(`SELECT epoch FROM ${this.t('ring_epoch')}`);
    return rows.length === 0 ? 0 : Number(rows[0]['epoch']);
  }

  /**
   * One page of the distinct chunk hashes in (after, before) that versions or uploads' parts name
   * (open uploads, and completed ones whose version is not projected yet), inline chunks left out, and the META checkpoint the page is exactly as of: the checkpoint
   * row and the chunk rows are read in one REPEATABLE READ snapshot, and the projector commits both
   * together.
   *
   * Each table's hashes come off its chunk_hash index in order, so a page reads about `limit` index
   * entries per table (plus a hash's duplicates) wherever it starts. The index has the column's
   * (the database's) collation, not "C": C, libc and ICU locales alike put digits before letters,
   * so they order lowercase hex as bytes do, and the bounds and the order agree with the callers'.
   */
  async listChunkReferences(range: ChunkReferenceRange, checkpointName: string): Promise<ChunkReferencePage> {
    const page = chunkReferencePageQuery(this.t, range);
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const [checkpoint]: Row[] = await tx.query(`SELECT sequence FROM ${this.t('projection_checkpoints')} WHERE projection = $1`, [checkpointName]);
      const rows: Row[] = await tx.query(page.sql, page.params);
      const chunks = rows.slice(0, range.limit).map((r) => ({
        hash: String(r['chunk_hash']),
        sizeBytes: Number(r['size_bytes']),
        replicationFactor: Math.max(...(r['storage_classes'] as (string | null)[]).map(replicationFactorOf)),
      }));
      const last = chunks.at(-1);
      return { chunks, nextAfter: rows.length > range.limit && last ? last.hash : null, asOfSequence: checkpoint ? Number(checkpoint['sequence']) : 0 };
    });
  }

  private async listCurrent(bucket: string, request: ListObjectsRequest, marker: string | null) {
    await this.requireBucket(bucket);
    const window = listingWindow(request, marker);
    const start = startAfterMarker(window.prefix, window.markerKey);
    if (start === 'empty') return { entries: [], isTruncated: false };
    const columns = 'key, version_id, size_bytes, etag, last_modified, storage_class';
    const source: ListingSource<Row, KeyBound> = {
      keyOf: (row) => String(row['key']),
      after: (row) => ({ kind: 'key', key: String(row['key']), inclusive: false }),
      fetch: (from, upperKey, limit) =>
        this.fetchKeyRange('object_versions', columns, 'AND is_current AND NOT is_delete_marker', 'key', bucket, from, upperKey, limit),
    };
    return paginate(source, window, start);
  }

  /** Rows of a bucket with keys in [from, upperKey), in index order. */
  private fetchKeyRange(
    table: string,
    columns: string,
    filter: string,
    orderBy: string,
    bucket: string,
    from: KeyBound,
    upperKey: string | null,
    limit: number,
  ): Promise<Row[]> {
    const params: unknown[] = [bucket, from.key, limit];
    const upper = upperKey === null ? '' : `AND key < $${params.push(upperKey)} COLLATE "C"`;
    return this.dataSource.query(
      `SELECT ${columns} FROM ${this.t(table)}
       WHERE bucket = $1 ${filter} AND key ${from.inclusive ? '>=' : '>'} $2 COLLATE "C" ${upper}
       ORDER BY ${orderBy} LIMIT $3`,
      params,
    );
  }

  private async requireBucket(bucket: string): Promise<void> {
    const rows: Row[] = await this.dataSource.query(`SELECT 1 FROM ${this.t('buckets')} WHERE name = $1`, [bucket]);
    if (rows.length === 0) throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
  }
}

function listingWindow(request: ListObjectsRequest, markerKey: string | null) {
  return { prefix: request.prefix ?? '', delimiter: request.delimiter ?? '', maxKeys: clampMaxKeys(request.maxKeys), markerKey };
}

function clampMaxKeys(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MetadataLimits.listMaxKeys;
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `max-keys ${maxKeys} is not a count`);
  return Math.min(maxKeys, MetadataLimits.listMaxKeys);
}

function rowsOf<R>(entries: readonly ListingEntry<R>[]): R[] {
  return entries.flatMap((e) => (e.kind === 'row' ? [e.row] : []));
}

function prefixesOf<R>(entries: readonly ListingEntry<R>[]): string[] {
  return entries.flatMap((e) => (e.kind === 'prefix' ? [e.prefix] : []));
}

function entryKey<R>(entry: ListingEntry<R>, keyOf: (row: R) => string): string {
  return entry.kind === 'row' ? keyOf(entry.row) : entry.prefix;
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

function toAccessKeyView(r: Row): AccessKeyView {
  const owner = String(r['owner']);
  return {
    accessKeyId: String(r['access_key_id']),
    secretAccessKey: String(r['secret_access_key']),
    owner,
    isRoot: owner === ROOT_ACCESS_KEY_OWNER,
    createdAt: toIso(r['created_at']),
    revokedAt: r['revoked_at'] === null ? null : toIso(r['revoked_at']),
  };
}

function toBucketView(r: Row): BucketView {
  const mode = r['replication_mode'] as ReplicationConfig['mode'];
  const replication: ReplicationConfig = mode === 'active-passive' ? { mode, homeRegion: String(r['home_region']) } : { mode };
  return {
    name: String(r['name']),
    owner: String(r['owner']),
    region: String(r['region']),
    createdAt: toIso(r['created_at']),
    versioning: r['versioning'] as VersioningStatus,
    replication,
    defaultStorageClass: r['default_storage_class'] as StorageClass,
    tags: r['tags'] as Tag[],
    deleting: r['deletion_id'] !== null,
  };
}

/**
 * The page of MetadataQueryAdapter.listChunkReferences, one row past `limit` to tell whether more
 * follow. Every part chunk row counts, a completed upload's too (no completed_sequence filter):
 * between its completion and its version's projection nothing else names its chunks. First the page's hashes, each table's off its chunk_hash index in order (DISTINCT and
 * LIMIT inside each branch, so neither reads past the page), then per hash its references' sizes
 * and storage classes, again by the index.
 */
export function chunkReferencePageQuery(t: (table: string) => string, range: ChunkReferenceRange): { readonly sql: string; readonly params: unknown[] } {
  const params: unknown[] = [range.after, range.limit + 1];
  const upper = range.before === null ? '' : `AND chunk_hash < $${params.push(range.before)}`;
  const inRange = `chunk_hash > $1 ${upper} AND inline_data IS NULL`;
  const sql = `WITH page AS (
      SELECT chunk_hash FROM (
        (SELECT DISTINCT chunk_hash FROM ${t('object_version_chunks')} WHERE ${inRange} ORDER BY chunk_hash LIMIT $2)
        UNION
        (SELECT DISTINCT chunk_hash FROM ${t('multipart_part_chunks')} WHERE ${inRange} ORDER BY chunk_hash LIMIT $2)
      ) AS hashes
      ORDER BY chunk_hash LIMIT $2
    )
    SELECT page.chunk_hash, refs.size_bytes, refs.storage_classes
    FROM page CROSS JOIN LATERAL (
      SELECT max(size_bytes) AS size_bytes, array_agg(DISTINCT storage_class) AS storage_classes FROM (
        SELECT c.size_bytes, v.storage_class
        FROM ${t('object_version_chunks')} AS c
        JOIN ${t('object_versions')} AS v ON v.bucket = c.bucket AND v.key_id = c.key_id AND v.version_id = c.version_id
        WHERE c.chunk_hash = page.chunk_hash AND c.inline_data IS NULL
        UNION ALL
        SELECT c.size_bytes, u.storage_class
        FROM ${t('multipart_part_chunks')} AS c
        JOIN ${t('multipart_uploads')} AS u ON u.bucket = c.bucket AND u.upload_id = c.upload_id
        WHERE c.chunk_hash = page.chunk_hash AND c.inline_data IS NULL
      ) AS named
    ) AS refs
    ORDER BY page.chunk_hash`;
  return { sql, params };
}

function toIso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/** Opaque to clients; it carries the last key or common prefix of the page. */
export function encodeContinuationToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: CONTINUATION_TOKEN_VERSION, after: lastKey }), 'utf8').toString('base64url');
}

export function decodeContinuationToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; after?: unknown };
    if (parsed.v === CONTINUATION_TOKEN_VERSION && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // falls through to the S3 error below
  }
  throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'the continuation token provided is incorrect');
}

export { compareKeys };
