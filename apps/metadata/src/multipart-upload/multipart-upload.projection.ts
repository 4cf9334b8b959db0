import { assertNever } from '@cairn/eventing';
import type { MultipartUploadEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import type { BucketContents, BucketLives } from '../bucket/bucket.projection';
import type { UploadsMadeIntoVersions, VersionedUpload } from '../object-key/object-key.projection';
import { insertChunkRows } from '../projections/chunk-rows';
import { eventTypes, type MetadataProjectionPart } from '../projections/projection-part';

/**
 * multipart_uploads, multipart_parts and multipart_part_chunks (each cascading from the one before).
 * An upload is in progress until it is completed or aborted. An aborted upload's rows go at once. A
 * completed upload's stay, marked with completed_sequence and left out of the listings, until the
 * version naming its upload id is projected (versionsProjected): CompleteMultipartUpload appends the
 * completion before the version, and in between (for good, if the shell stops there until the
 * client retries) these rows are all that names the upload's chunks, which chunk.references, and
 * so garbage collection, must keep seeing. Initiations (with their parts) of an earlier life of the
 * bucket name are skipped.
 */
export class MultipartUploadProjection implements MetadataProjectionPart<MultipartUploadEvent>, BucketContents, UploadsMadeIntoVersions {
  readonly handles = eventTypes<MultipartUploadEvent>({
    MultipartUploadInitiated: true,
    MultipartPartUploaded: true,
    MultipartUploadCompleted: true,
    MultipartUploadCompletionWithdrawn: true,
    MultipartUploadAborted: true,
  });

  constructor(
    private readonly t: (table: string) => string,
    private readonly lives: BucketLives,
  ) {}

  async apply(tx: EntityManager, event: MultipartUploadEvent, sequence: number): Promise<void> {
    const t = this.t;
    switch (event.type) {
      case 'MultipartUploadInitiated': {
        // An upload of another life of the bucket name is skipped, and so its parts (they need the row).
        const d = event.data;
        if (!(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        await tx.query(
          `INSERT INTO ${t('multipart_uploads')} (bucket, upload_id, key, key_id, owner, initiated_at, initiated_sequence,
             content_type, user_metadata, storage_class, tags, content_headers)
           VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7, $8, $9::jsonb, $10, $11::jsonb, $12::jsonb)`,
          [
            d.bucket,
            d.uploadId,
            d.key,
            d.keyId,
            d.owner,
            d.initiatedAt,
            sequence,
            d.contentType,
            JSON.stringify(d.userMetadata),
            d.storageClass,
            JSON.stringify(d.tags),
            JSON.stringify(d.contentHeaders),
          ],
        );
        return;
      }
      case 'MultipartPartUploaded': {
        const d = event.data;
        const [upload] = await tx.query(`SELECT 1 FROM ${t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2 AND completed_sequence IS NULL`, [
          d.bucket,
          d.uploadId,
        ]);
        if (!upload) return;
        await tx.query(`DELETE FROM ${t('multipart_parts')} WHERE bucket = $1 AND upload_id = $2 AND part_number = $3`, [d.bucket, d.uploadId, d.partNumber]);
        await tx.query(
          `INSERT INTO ${t('multipart_parts')} (bucket, upload_id, part_number, etag, size_bytes, checksums, last_modified)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::timestamptz)`,
          [d.bucket, d.uploadId, d.partNumber, d.etag, d.sizeBytes, JSON.stringify(d.checksums), d.lastModified],
        );
        await insertChunkRows(tx, t, 'multipart_part_chunks', [{ owner: [d.bucket, d.uploadId, d.partNumber], chunks: d.chunks }]);
        return;
      }
      case 'MultipartUploadCompletionWithdrawn': {
        // The completed upload's rows go (there may be none: an earlier life's upload, or one completed
        // before completions kept them) and come back open, as initiation and part uploads put them.
        const d = event.data;
        await tx.query(`DELETE FROM ${t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2`, [d.bucket, d.uploadId]);
        await this.apply(tx, { type: 'MultipartUploadInitiated', data: d.upload }, sequence);
        for (const part of d.parts) await this.apply(tx, { type: 'MultipartPartUploaded', data: { bucket: d.bucket, uploadId: d.uploadId, ...part } }, sequence);
        return;
      }
      case 'MultipartUploadCompleted':
        // Until the version naming the upload is projected (versionsProjected drops them then), the
        // part chunk rows are all that names its chunks: they stay, out of the listings.
        await tx.query(`UPDATE ${t('multipart_uploads')} SET completed_sequence = $3 WHERE bucket = $1 AND upload_id = $2 AND completed_sequence IS NULL`, [
          event.data.bucket,
          event.data.uploadId,
          sequence,
        ]);
        return;
      case 'MultipartUploadAborted':
        await tx.query(`DELETE FROM ${t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2`, [event.data.bucket, event.data.uploadId]);
        return;
      default:
        return assertNever(event, 'multipart upload event');
    }
  }

  /** Uploads left in progress (and completed ones whose version never landed) go with the bucket. */
  async dropBucket(tx: EntityManager, bucket: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.t('multipart_uploads')} WHERE bucket = $1`, [bucket]);
  }

  /** The completed uploads these versions were made from: the versions' chunk rows name their chunks now. */
  async versionsProjected(tx: EntityManager, uploads: readonly VersionedUpload[]): Promise<void> {
    await tx.query(
      `DELETE FROM ${this.t('multipart_uploads')} AS u USING unnest($1::text[], $2::text[]) AS c(bucket, upload_id)
       WHERE u.bucket = c.bucket AND u.upload_id = c.upload_id AND u.completed_sequence IS NOT NULL`,
      [uploads.map((u) => u.bucket), uploads.map((u) => u.uploadId)],
    );
  }
}
