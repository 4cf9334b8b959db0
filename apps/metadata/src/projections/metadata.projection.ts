import { assertNever, type Projection } from '@cairn/eventing';
import {
  isMetadataEventType,
  METADATA_EVENT_TYPES,
  NULL_VERSION_ID,
  type ChunkRef,
  type EventEnvelope,
  type MetadataEvent,
  type ObjectVersionData,
} from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import { tableIn } from '../adapters/metadata-schema';

const RING_EPOCH_ROW_ID = 1;

/**
 * Applies one metadata event to the Postgres read model. It trusts the order of the stream: the
 * deciders already refused everything invalid, so each event is a plain row change. Object and
 * upload events of a bucket the read model does not hold are writes that lost a race with the
 * bucket's deletion (see the bucket decider) and are skipped, the same way on every replay; so are
 * object-key events and upload initiations (with their parts) of an earlier life of a bucket name
 * that was deleted and created again.
 *
 * A completed upload keeps its rows (marked with completed_sequence, out of the listings) until the
 * version naming its upload id is projected: chunk.references never finds its chunks named by
 * nothing in between. An aborted upload's rows go at once.
 */
export class MetadataProjection implements Projection<EntityManager> {
  readonly name = 'metadata';
  readonly handles: readonly string[] = METADATA_EVENT_TYPES;
  private readonly t: (table: string) => string;

  constructor(readonly schema: string) {
    this.t = tableIn(schema);
  }

  async apply(tx: EntityManager, envelope: EventEnvelope, sequence: number): Promise<void> {
    if (!isMetadataEventType(envelope.type)) return;
    const event = { type: envelope.type, data: envelope.data } as MetadataEvent;
    const t = this.t;
    switch (event.type) {
      case 'BucketCreated': {
        const d = event.data;
        await tx.query(
          `INSERT INTO ${t('buckets')} (name, owner, region, created_at, versioning, replication_mode, home_region,
             default_storage_class, tags, deletion_id, created_sequence, updated_sequence)
           VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, '[]'::jsonb, NULL, $9, $9)`,
          [
            d.bucket,
            d.owner,
            d.region,
            d.createdAt,
            d.versioning,
            d.replication.mode,
            d.replication.mode === 'active-passive' ? d.replication.homeRegion : null,
            d.defaultStorageClass,
            sequence,
          ],
        );
        this.bucketsKnownIn(tx).set(d.bucket, sequence);
        return;
      }
      case 'BucketDeletionStarted':
        return this.updateBucket(tx, event.data.bucket, sequence, 'deletion_id = $3', [event.data.deletionId]);
      case 'BucketDeletionCancelled':
        return this.updateBucket(tx, event.data.bucket, sequence, 'deletion_id = NULL', []);
      case 'BucketDeleted':
        // Uploads left in progress and writes that raced the seal go with the bucket.
        await tx.query(`DELETE FROM ${t('multipart_uploads')} WHERE bucket = $1`, [event.data.bucket]);
        await tx.query(`DELETE FROM ${t('object_versions')} WHERE bucket = $1`, [event.data.bucket]);
        await tx.query(`DELETE FROM ${t('buckets')} WHERE name = $1`, [event.data.bucket]);
        this.bucketsKnownIn(tx).set(event.data.bucket, null);
        return;
      case 'BucketVersioningChanged':
        return this.updateBucket(tx, event.data.bucket, sequence, 'versioning = $3', [event.data.versioning]);
      case 'BucketReplicationChanged': {
        const r = event.data.replication;
        return this.updateBucket(tx, event.data.bucket, sequence, 'replication_mode = $3, home_region = $4', [
          r.mode,
          r.mode === 'active-passive' ? r.homeRegion : null,
        ]);
      }
      case 'BucketDefaultStorageClassChanged':
        return this.updateBucket(tx, event.data.bucket, sequence, 'default_storage_class = $3', [event.data.defaultStorageClass]);
      case 'BucketTagsSet':
        return this.updateBucket(tx, event.data.bucket, sequence, 'tags = $3::jsonb', [JSON.stringify(event.data.tags)]);
      case 'BucketTagsDeleted':
        return this.updateBucket(tx, event.data.bucket, sequence, `tags = '[]'::jsonb`, []);
      case 'BucketOwnerChanged':
        return this.updateBucket(tx, event.data.bucket, sequence, 'owner = $3', [event.data.owner]);
      case 'ObjectVersionPut':
      case 'ObjectVersionCopied':
      case 'DeleteMarkerPut': {
        const row = versionRowOf(event, sequence);
        if (await this.isOfCurrentLife(tx, row.bucket, event.data.incarnation)) await this.putVersions(tx, [row]);
        return;
      }
      case 'ObjectVersionDeleted': {
        const d = event.data;
        if (!(await this.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        await tx.query(`DELETE FROM ${t('object_versions')} WHERE bucket = $1 AND key_id = $2 AND version_id = $3`, [d.bucket, d.keyId, d.versionId]);
        if (d.newCurrentVersionId !== null) {
          await tx.query(
            `UPDATE ${t('object_versions')} SET is_current = true WHERE bucket = $1 AND key_id = $2 AND version_id = $3 AND NOT is_current`,
            [d.bucket, d.keyId, d.newCurrentVersionId],
          );
        }
        return;
      }
      case 'ObjectTagsSet':
      case 'ObjectTagsDeleted': {
        const d = event.data;
        if (!(await this.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        const tags = event.type === 'ObjectTagsSet' ? event.data.tags : [];
        await tx.query(`UPDATE ${t('object_versions')} SET tags = $4::jsonb WHERE bucket = $1 AND key_id = $2 AND version_id = $3`, [
          d.bucket,
          d.keyId,
          d.versionId,
          JSON.stringify(tags),
        ]);
        return;
      }
      case 'MultipartUploadInitiated': {
        // An upload of another life of the bucket name is skipped, and so its parts (they need the row).
        const d = event.data;
        if (!(await this.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
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
        await this.insertChunks(tx, 'multipart_part_chunks', [{ owner: [d.bucket, d.uploadId, d.partNumber], chunks: d.chunks }]);
        return;
      }
      case 'MultipartUploadCompletionWithdrawn': {
        // The completed upload's rows go (there may be none: an earlier life's upload, or one completed
        // before completions kept them) and come back open, as initiation and part uploads put them.
        const d = event.data;
        await tx.query(`DELETE FROM ${t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2`, [d.bucket, d.uploadId]);
        await this.apply(tx, { ...envelope, type: 'MultipartUploadInitiated', data: d.upload }, sequence);
        for (const part of d.parts) await this.apply(tx, { ...envelope, type: 'MultipartPartUploaded', data: { bucket: d.bucket, uploadId: d.uploadId, ...part } }, sequence);
        return;
      }
      case 'MultipartUploadCompleted':
        // Until the version naming the upload is projected (putVersions drops them then), the part
        // chunk rows are all that names its chunks: they stay, out of the listings.
        await tx.query(`UPDATE ${t('multipart_uploads')} SET completed_sequence = $3 WHERE bucket = $1 AND upload_id = $2 AND completed_sequence IS NULL`, [
          event.data.bucket,
          event.data.uploadId,
          sequence,
        ]);
        return;
      case 'MultipartUploadAborted':
        await tx.query(`DELETE FROM ${t('multipart_uploads')} WHERE bucket = $1 AND upload_id = $2`, [event.data.bucket, event.data.uploadId]);
        return;
      case 'AccessKeyCreated': {
        const d = event.data;
        await tx.query(
          `INSERT INTO ${t('access_keys')} (access_key_id, secret_access_key, owner, created_at, revoked_at) VALUES ($1, $2, $3, $4::timestamptz, NULL)`,
          [d.accessKeyId, d.secretAccessKey, d.owner, d.createdAt],
        );
        return;
      }
      case 'AccessKeyRevoked':
        await tx.query(`UPDATE ${t('access_keys')} SET revoked_at = $2::timestamptz WHERE access_key_id = $1`, [event.data.accessKeyId, event.data.revokedAt]);
        return;
      case 'StorageNodeJoined': {
        const d = event.data;
        await tx.query(
          `INSERT INTO ${t('storage_nodes')} (node_id, zone, host, address, weight, capacity_bytes, draining, joined_at, epoch)
           VALUES ($1, $2, $3, $4, $5, $6, false, $7::timestamptz, $8)`,
          [d.nodeId, d.zone, d.host, d.address, d.weight, d.capacityBytes, d.joinedAt, d.epoch],
        );
        return this.setRingEpoch(tx, d.epoch);
      }
      case 'StorageNodeWeightChanged': {
        const d = event.data;
        await tx.query(`UPDATE ${t('storage_nodes')} SET weight = $2, capacity_bytes = $3, epoch = $4 WHERE node_id = $1`, [
          d.nodeId,
          d.weight,
          d.capacityBytes,
          d.epoch,
        ]);
        return this.setRingEpoch(tx, d.epoch);
      }
      case 'StorageNodeDrained':
        await tx.query(`UPDATE ${t('storage_nodes')} SET draining = true, epoch = $2 WHERE node_id = $1`, [event.data.nodeId, event.data.epoch]);
        return this.setRingEpoch(tx, event.data.epoch);
      case 'StorageNodeRemoved':
        await tx.query(`DELETE FROM ${t('storage_nodes')} WHERE node_id = $1`, [event.data.nodeId]);
        return this.setRingEpoch(tx, event.data.epoch);
      default:
        return assertNever(event, 'metadata event');
    }
  }

  /**
   * A batch of events in stream order. Runs of new versions of distinct keys go to Postgres as one
   * set (putVersions: at most five statements for the run instead of per event), which is what lets
   * the read model keep up with many writers; every other event is applied on its own, in order.
   */
  async applyAll(tx: EntityManager, events: readonly { readonly envelope: EventEnvelope; readonly sequence: number }[]): Promise<void> {
    let run: VersionRow[] = [];
    const keysInRun = new Set<string>();
    const flush = async () => {
      if (run.length > 0) await this.putVersions(tx, run);
      run = [];
      keysInRun.clear();
    };
    for (const { envelope, sequence } of events) {
      if (!isMetadataEventType(envelope.type)) continue;
      const event = { type: envelope.type, data: envelope.data } as MetadataEvent;
      if (!isVersionEvent(event)) {
        await flush();
        await this.apply(tx, envelope, sequence);
        continue;
      }
      const row = versionRowOf(event, sequence);
      if (!(await this.isOfCurrentLife(tx, row.bucket, event.data.incarnation))) continue;
      // A second version of a key in the run must see the first one's row: it starts the next run.
      const keyRef = `${row.bucket}\n${row.key_id}`;
      if (keysInRun.has(keyRef)) await flush();
      run.push(row);
      keysInRun.add(keyRef);
    }
    await flush();
  }

  private async updateBucket(tx: EntityManager, bucket: string, sequence: number, assignments: string, values: readonly unknown[]): Promise<void> {
    await tx.query(`UPDATE ${this.t('buckets')} SET ${assignments}, updated_sequence = $2 WHERE name = $1`, [bucket, sequence, ...values]);
  }

  /**
   * Whether a key or upload event belongs to the bucket's current life (BucketLife in @cairn/protocol): the
   * bucket exists and the event's incarnation is the row's created_sequence. A write that raced a
   * delete and landed after the name was created again is skipped, the same way on every replay.
   * Events without an incarnation (written before they were recorded) count for any live bucket.
   */
  private async isOfCurrentLife(tx: EntityManager, bucket: string, incarnation: number | undefined): Promise<boolean> {
    const current = await this.bucketIncarnation(tx, bucket);
    return current !== null && (incarnation === undefined || incarnation === current);
  }

  /**
   * The bucket row's created_sequence (its incarnation), or null when there is no row; remembered
   * for the rest of the transaction (a batch): only this projection's BucketCreated/BucketDeleted
   * change it, and they update the memo.
   */
  private async bucketIncarnation(tx: EntityManager, bucket: string): Promise<number | null> {
    const known = this.bucketsKnownIn(tx);
    const remembered = known.get(bucket);
    if (remembered !== undefined) return remembered;
    const rows: { created_sequence: string | number }[] = await tx.query(`SELECT created_sequence FROM ${this.t('buckets')} WHERE name = $1`, [bucket]);
    const incarnation = rows.length > 0 ? Number(rows[0].created_sequence) : null;
    known.set(bucket, incarnation);
    return incarnation;
  }

  private readonly bucketMemos = new WeakMap<EntityManager, Map<string, number | null>>();

  private bucketsKnownIn(tx: EntityManager): Map<string, number | null> {
    let known = this.bucketMemos.get(tx);
    if (!known) {
      known = new Map();
      this.bucketMemos.set(tx, known);
    }
    return known;
  }

  /**
   * New current versions (or delete markers) of distinct keys, in at most five statements whatever
   * their number: each key's current version stops being current (a new null version replaces the old
   * null one), then the versions and their chunks are inserted, and the completed uploads they were
   * made from drop their rows (the version's chunk rows name those chunks now; the same transaction).
   */
  private async putVersions(tx: EntityManager, rows: readonly VersionRow[]): Promise<void> {
    const t = this.t;
    const nulls = rows.filter((r) => r.version_id === NULL_VERSION_ID);
    if (nulls.length > 0) {
      await tx.query(
        `DELETE FROM ${t('object_versions')} AS v USING unnest($1::text[], $2::text[]) AS k(bucket, key_id)
         WHERE v.bucket = k.bucket AND v.key_id = k.key_id AND v.version_id = $3`,
        [nulls.map((r) => r.bucket), nulls.map((r) => r.key_id), NULL_VERSION_ID],
      );
    }
    await tx.query(
      `UPDATE ${t('object_versions')} AS v SET is_current = false FROM unnest($1::text[], $2::text[]) AS k(bucket, key_id)
       WHERE v.bucket = k.bucket AND v.key_id = k.key_id AND v.is_current`,
      [rows.map((r) => r.bucket), rows.map((r) => r.key_id)],
    );
    await tx.query(
      `INSERT INTO ${t('object_versions')} (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, checksums,
         content_type, user_metadata, storage_class, tags, hlc, last_modified, upload_id, copy_source, content_headers, part_sizes)
       SELECT bucket, key_id, version_id, key, sequence, true, is_delete_marker, size_bytes, etag, checksums,
         content_type, user_metadata, storage_class, tags, hlc, last_modified, upload_id, copy_source, content_headers, part_sizes
       FROM jsonb_to_recordset($1::jsonb) AS r(bucket text, key_id text, version_id text, key text, sequence bigint, is_delete_marker boolean,
         size_bytes bigint, etag text, checksums jsonb, content_type text, user_metadata jsonb, storage_class text, tags jsonb, hlc text,
         last_modified timestamptz, upload_id text, copy_source jsonb, content_headers jsonb, part_sizes bigint[])`,
      [JSON.stringify(rows.map(({ chunks: _chunks, ...row }) => row))],
    );
    await this.insertChunks(
      tx,
      'object_version_chunks',
      rows.map((r) => ({ owner: [r.bucket, r.key_id, r.version_id], chunks: r.chunks })),
    );
    const fromUploads = rows.filter((r) => r.upload_id !== null);
    if (fromUploads.length > 0) {
      await tx.query(
        `DELETE FROM ${t('multipart_uploads')} AS u USING unnest($1::text[], $2::text[]) AS c(bucket, upload_id)
         WHERE u.bucket = c.bucket AND u.upload_id = c.upload_id AND u.completed_sequence IS NOT NULL`,
        [fromUploads.map((r) => r.bucket), fromUploads.map((r) => r.upload_id)],
      );
    }
  }

  /** The chunk rows of any number of versions (or parts) in one statement, inline bytes included. */
  private async insertChunks(
    tx: EntityManager,
    table: keyof typeof CHUNK_OWNER_COLUMNS,
    owned: readonly { readonly owner: readonly [string, string, string | number]; readonly chunks: readonly ChunkRef[] }[],
  ): Promise<void> {
    const rows = owned.flatMap(({ owner: [bucket, owner1, owner2], chunks }) =>
      chunks.map((c, ordinal) => ({ bucket, owner1, owner2, ordinal, hash: c.hash, offset_bytes: c.offsetBytes, size_bytes: c.sizeBytes, inline: c.inline ?? null })),
    );
    if (rows.length === 0) return;
    const [[firstColumn, firstType], [secondColumn, secondType]] = CHUNK_OWNER_COLUMNS[table];
    await tx.query(
      `INSERT INTO ${this.t(table)} (bucket, ${firstColumn}, ${secondColumn}, ordinal, chunk_hash, offset_bytes, size_bytes, inline_data)
       SELECT bucket, owner1, owner2, ordinal, hash, offset_bytes, size_bytes, decode(inline, 'base64')
       FROM jsonb_to_recordset($1::jsonb)
         AS c(bucket text, owner1 ${firstType}, owner2 ${secondType}, ordinal integer, hash text, offset_bytes bigint, size_bytes bigint, inline text)`,
      [JSON.stringify(rows)],
    );
  }

  private async setRingEpoch(tx: EntityManager, epoch: number): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.t('ring_epoch')} (id, epoch) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch`,
      [RING_EPOCH_ROW_ID, epoch],
    );
  }
}

/** Besides the bucket, what names a chunk row's owner in each chunk table: column and SQL type. */
const CHUNK_OWNER_COLUMNS = {
  object_version_chunks: [
    ['key_id', 'text'],
    ['version_id', 'text'],
  ],
  multipart_part_chunks: [
    ['upload_id', 'text'],
    ['part_number', 'integer'],
  ],
} as const;

/** One row of object_versions as putVersions inserts it (JSON keys are the column names). */
interface VersionRow {
  readonly bucket: string;
  readonly key_id: string;
  readonly version_id: string;
  readonly key: string;
  readonly sequence: number;
  readonly is_delete_marker: boolean;
  readonly size_bytes: number;
  readonly etag: string | null;
  readonly checksums: object;
  readonly content_type: string | null;
  readonly user_metadata: object;
  readonly storage_class: string | null;
  readonly tags: readonly object[];
  readonly hlc: string;
  readonly last_modified: string;
  readonly upload_id: string | null;
  readonly copy_source: object | null;
  readonly content_headers: object;
  readonly part_sizes: readonly number[] | null;
  readonly chunks: readonly ChunkRef[];
}

type VersionEvent = Extract<MetadataEvent, { type: 'ObjectVersionPut' | 'ObjectVersionCopied' | 'DeleteMarkerPut' }>;

function isVersionEvent(event: MetadataEvent): event is VersionEvent {
  return event.type === 'ObjectVersionPut' || event.type === 'ObjectVersionCopied' || event.type === 'DeleteMarkerPut';
}

function versionRowOf(event: VersionEvent, sequence: number): VersionRow {
  const { bucket, keyId, versionId, key, hlc, lastModified } = event.data;
  const common = { bucket, key_id: keyId, version_id: versionId, key, sequence, hlc, last_modified: lastModified };
  if (event.type === 'DeleteMarkerPut') {
    return {
      ...common,
      is_delete_marker: true,
      size_bytes: 0,
      etag: null,
      checksums: {},
      content_type: null,
      user_metadata: {},
      storage_class: null,
      tags: [],
      upload_id: null,
      copy_source: null,
      content_headers: {},
      part_sizes: null,
      chunks: [],
    };
  }
  const d: ObjectVersionData = event.data;
  return {
    ...common,
    is_delete_marker: false,
    size_bytes: d.sizeBytes,
    etag: d.etag,
    checksums: d.checksums,
    content_type: d.contentType,
    user_metadata: d.userMetadata,
    storage_class: d.storageClass,
    tags: d.tags,
    upload_id: event.type === 'ObjectVersionPut' ? (event.data.uploadId ?? null) : null,
    copy_source: event.type === 'ObjectVersionCopied' ? event.data.source : null,
    content_headers: d.contentHeaders,
    part_sizes: d.partSizes ?? null,
    chunks: d.chunks,
  };
}
