import { MetadataErrorCodes, type Checksums, type ListPartsResult, type ListUploadsResult, type StorageClass } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { canSkipPrefixesInSql, clampMaxKeys, fetchKeyRangeSkippingPrefixes, fetchWithinKeyThenKeyRange, listingWindow, nextMarkersOf, prefixesOf, rowsOf, type KeyRangeTable, type ListObjectsRequest } from '../adapters/listing/listing-query';
import { paginate, startAfterMarker, type KeyBound, type ListingSource } from '../adapters/listing/paginate';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';
import { requireBucket } from '../bucket/bucket.queries';
import { MetadataError } from '../domain/shared/metadata.errors';

/**
 * An upload row that is still in progress. A completed upload's rows stay until the version made
 * from it is projected (they name its chunks until then; multipart-upload.projection.ts), but no
 * listing shows them: to a client the upload is gone once its completion is answered.
 */
const UPLOAD_IN_PROGRESS = 'completed_sequence IS NULL';

const UPLOAD_COLUMNS = 'key, upload_id, owner, initiated_at, initiated_sequence, storage_class';
/** ListMultipartUploads: keys in order, each key's uploads in initiation order (multipart_uploads_listing_idx). */
const UPLOADS_IN_PROGRESS: KeyRangeTable = {
  table: 'multipart_uploads',
  columns: UPLOAD_COLUMNS,
  filter: `AND ${UPLOAD_IN_PROGRESS}`,
  orderBy: 'key, initiated_sequence, upload_id',
  withinKey: { after: '(initiated_sequence, upload_id) > (w.initiated_sequence, w.upload_id)', orderBy: 'initiated_sequence, upload_id' },
};

type UploadPosition = { readonly kind: 'upload'; readonly key: string; readonly sequence: string; readonly uploadId: string };

/** The upload listings (ListMultipartUploads, ListParts) over the read model: uploads in progress only. */
export class MultipartUploadQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  /** In-progress uploads, by key, then by initiation order within a key. */
  async listMultipartUploads(
    bucket: string,
    request: ListObjectsRequest & { readonly keyMarker?: string; readonly uploadIdMarker?: string },
  ): Promise<ListUploadsResult> {
    await requireBucket(this.dataSource, this.t, bucket);
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
    const source: ListingSource<Row, UploadPosition> = {
      keyOf: (row) => String(row['key']),
      after: (row) => ({ kind: 'upload', key: String(row['key']), sequence: String(row['initiated_sequence']), uploadId: String(row['upload_id']) }),
      fetch: (from, upperKey, limit) =>
        fetchWithinKeyThenKeyRange(this.dataSource, this.t, UPLOADS_IN_PROGRESS, bucket, from, upperKey, limit, (within, rest) =>
          this.dataSource.query(
            `SELECT ${UPLOAD_COLUMNS} FROM ${this.t('multipart_uploads')}
             WHERE bucket = $1 AND key = $2 AND (initiated_sequence, upload_id) > ($3::bigint, $4::text COLLATE "C") AND ${UPLOAD_IN_PROGRESS}
             ORDER BY initiated_sequence, upload_id LIMIT $5`,
            [bucket, within.key, within.sequence, within.uploadId, rest],
          ),
        ),
      ...(canSkipPrefixesInSql(window.delimiter) && {
        fetchSkippingPrefixes: (from: KeyBound, upperKey: string | null, limit: number) =>
          fetchKeyRangeSkippingPrefixes(this.dataSource, this.t, UPLOADS_IN_PROGRESS, bucket, from, upperKey, limit, window),
      }),
    };
    const page = await paginate(source, window, start);
    const next = nextMarkersOf(page, (row) => ({ nextUploadIdMarker: String(row['upload_id']) }));
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
    await requireBucket(this.dataSource, this.t, bucket);
    const uploads: Row[] = await this.dataSource.query(`SELECT storage_class FROM ${this.t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2 AND ${UPLOAD_IN_PROGRESS}`, [
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
    return { parts, isTruncated, ...(isTruncated ? { nextPartNumberMarker: last.partNumber } : {}), storageClass: uploads[0]['storage_class'] as StorageClass };
  }
}
