import { assertNever } from '@cairn/eventing';
import { NULL_VERSION_ID, type ChunkRef, type MetadataEvent, type ObjectKeyEvent, type ObjectVersionData } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import type { BucketContents, BucketLives } from '../bucket/bucket.projection';
import { insertChunkRows } from '../projections/chunk-rows';
import { eventTypes, type MetadataProjectionPart } from '../projections/projection-part';

/** A new version's upload, when it was made from one (ObjectVersionPut.uploadId). */
export interface VersionedUpload {
  readonly bucket: string;
  readonly uploadId: string;
}

/** The uploads whose versions are now projected: their rows named the versions' chunks until now. */
export interface UploadsMadeIntoVersions {
  versionsProjected(tx: EntityManager, uploads: readonly VersionedUpload[]): Promise<void>;
}

/** One row of object_versions as putVersions inserts it (JSON keys are the column names). */
export interface VersionRow {
  readonly bucket: string;
  readonly key_id: string;
  readonly version_id: string;
  readonly key: string;
  readonly sequence: number;
  /** False for a version that lost a conflict on arrival: it goes in below the current one. */
  readonly is_current: boolean;
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
  /** The version's ACL (ObjectVersionData.acl); null: private, owned by the bucket's owner. */
  readonly acl: object | null;
  readonly chunks: readonly ChunkRef[];
}

export type VersionEvent = Extract<ObjectKeyEvent, { type: 'ObjectVersionPut' | 'ObjectVersionCopied' | 'DeleteMarkerPut' }>;

/**
 * object_versions and object_version_chunks: every version and delete marker of every key, one
 * current per key. Events of a bucket life the read model does not hold are skipped (BucketLives).
 * New versions go in as sets (putVersions), so that runs of them in a batch cost a few statements.
 */
export class ObjectKeyProjection implements MetadataProjectionPart<ObjectKeyEvent>, BucketContents {
  readonly handles = eventTypes<ObjectKeyEvent>({
    ObjectVersionPut: true,
    ObjectVersionCopied: true,
    DeleteMarkerPut: true,
    ObjectVersionDeleted: true,
    ObjectTagsSet: true,
    ObjectTagsDeleted: true,
    ObjectAclSet: true,
    ConflictResolved: true,
    ReplicatedChangeSkipped: true,
    ObjectLockChanged: true,
    ObjectDataKeyRewrapped: true,
    ObjectVersionStorageClassChanged: true,
  });

  constructor(
    private readonly t: (table: string) => string,
    private readonly lives: BucketLives,
    private readonly uploads: UploadsMadeIntoVersions,
  ) {}

  async apply(tx: EntityManager, event: ObjectKeyEvent, sequence: number): Promise<void> {
    const t = this.t;
    switch (event.type) {
      case 'ObjectVersionPut':
      case 'ObjectVersionCopied':
      case 'DeleteMarkerPut': {
        const row = await this.rowToPut(tx, event, sequence);
        if (row) await this.putVersions(tx, [row]);
        return;
      }
      case 'ObjectVersionDeleted': {
        const d = event.data;
        if (!(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
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
        if (!(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        const tags = event.type === 'ObjectTagsSet' ? event.data.tags : [];
        await tx.query(`UPDATE ${t('object_versions')} SET tags = $4::jsonb WHERE bucket = $1 AND key_id = $2 AND version_id = $3`, [
          d.bucket,
          d.keyId,
          d.versionId,
          JSON.stringify(tags),
        ]);
        return;
      }
      case 'ObjectAclSet': {
        const d = event.data;
        if (!(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        await tx.query(`UPDATE ${t('object_versions')} SET acl = $4::jsonb WHERE bucket = $1 AND key_id = $2 AND version_id = $3 AND NOT is_delete_marker`, [
          d.bucket,
          d.keyId,
          d.versionId,
          JSON.stringify(d.acl),
        ]);
        return;
      }
      case 'ConflictResolved': {
        const d = event.data;
        if (!d.renamed || !(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        await this.renameVersion(tx, d.bucket, d.keyId, d.renamed);
        return;
      }
      // Nothing to project: a skipped change is bookkeeping; Object Lock and wrapped data keys are
      // read from the key's own subject (HEAD), not from here.
      case 'ReplicatedChangeSkipped':
      case 'ObjectLockChanged':
      case 'ObjectDataKeyRewrapped':
        return;
      case 'ObjectVersionStorageClassChanged': {
        const d = event.data;
        if (!(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
        const where = `bucket = $1 AND key_id = $2 AND version_id = $3`;
        const found = (await tx.query(`SELECT 1 FROM ${t('object_versions')} WHERE ${where} AND NOT is_delete_marker`, [d.bucket, d.keyId, d.versionId])) as unknown[];
        if (found.length === 0) return;
        await tx.query(`UPDATE ${t('object_versions')} SET storage_class = $4 WHERE ${where}`, [d.bucket, d.keyId, d.versionId, d.storageClass]);
        // The chunk list is swapped in the same transaction: the old chunks are unreferenced from here on (GC).
        await tx.query(`DELETE FROM ${t('object_version_chunks')} WHERE bucket = $1 AND key_id = $2 AND version_id = $3`, [d.bucket, d.keyId, d.versionId]);
        await insertChunkRows(tx, t, 'object_version_chunks', [{ owner: [d.bucket, d.keyId, d.versionId], chunks: d.chunks }]);
        return;
      }
      default:
        return assertNever(event, 'object key event');
    }
  }

  /**
   * A `null` version that lost a conflict keeps its row under its new id. Its chunk rows name it by
   * id, so the row is copied under the new id, the chunk rows moved to it, and the old row removed.
   */
  private async renameVersion(tx: EntityManager, bucket: string, keyId: string, renamed: { from: string; to: string; hlc: string }): Promise<void> {
    const versions = this.t('object_versions');
    const where = `bucket = $1 AND key_id = $2 AND version_id = $3 AND hlc = $4`;
    const rows = (await tx.query(`SELECT is_current AS was_current FROM ${versions} WHERE ${where}`, [bucket, keyId, renamed.from, renamed.hlc])) as { was_current: boolean }[];
    if (rows.length === 0) return;
    // Not current while both rows exist: a key has one current row at most (object_versions_current_idx).
    if (rows[0].was_current) await tx.query(`UPDATE ${versions} SET is_current = false WHERE ${where}`, [bucket, keyId, renamed.from, renamed.hlc]);
    await tx.query(
      `INSERT INTO ${versions} SELECT (jsonb_populate_record(NULL::${versions}, to_jsonb(v) || jsonb_build_object('version_id', $5::text))).*
       FROM ${versions} AS v WHERE ${where}`,
      [bucket, keyId, renamed.from, renamed.hlc, renamed.to],
    );
    await tx.query(`UPDATE ${this.t('object_version_chunks')} SET version_id = $4 WHERE bucket = $1 AND key_id = $2 AND version_id = $3`, [bucket, keyId, renamed.from, renamed.to]);
    await tx.query(`DELETE FROM ${versions} WHERE ${where}`, [bucket, keyId, renamed.from, renamed.hlc]);
    if (rows[0].was_current) {
      await tx.query(`UPDATE ${versions} SET is_current = true WHERE bucket = $1 AND key_id = $2 AND version_id = $3`, [bucket, keyId, renamed.to]);
    }
  }

  /** Writes that raced the bucket's seal go with it (their chunk rows by cascade). */
  async dropBucket(tx: EntityManager, bucket: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.t('object_versions')} WHERE bucket = $1`, [bucket]);
  }

  /** The row a new version (or delete marker) puts, or null when it belongs to no life the read model holds. */
  async rowToPut(tx: EntityManager, event: VersionEvent, sequence: number): Promise<VersionRow | null> {
    const row = versionRowOf(event, sequence);
    return (await this.lives.isOfCurrentLife(tx, row.bucket, event.data.incarnation)) ? row : null;
  }

  /**
   * New current versions (or delete markers) of distinct keys, in at most five statements whatever
   * their number: each key's current version stops being current (a new null version replaces the
   * old null one), then the versions and their chunks are inserted, and the completed uploads they
   * were made from drop their rows (the version's chunk rows name those chunks now; the same
   * transaction).
   */
  async putVersions(tx: EntityManager, rows: readonly VersionRow[]): Promise<void> {
    const t = this.t;
    const current = rows.filter((r) => r.is_current);
    const nulls = current.filter((r) => r.version_id === NULL_VERSION_ID);
    if (nulls.length > 0) {
      await tx.query(dropVersionOfKeysSql(t('object_versions')), [nulls.map((r) => r.bucket), nulls.map((r) => r.key_id), NULL_VERSION_ID]);
    }
    await tx.query(demoteCurrentOfKeysSql(t('object_versions')), [current.map((r) => r.bucket), current.map((r) => r.key_id)]);
    await tx.query(
      `INSERT INTO ${t('object_versions')} (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, checksums,
         content_type, user_metadata, storage_class, tags, hlc, last_modified, upload_id, copy_source, content_headers, part_sizes, acl)
       SELECT bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, checksums,
         content_type, user_metadata, storage_class, tags, hlc, last_modified, upload_id, copy_source, content_headers, part_sizes, acl
       FROM jsonb_to_recordset($1::jsonb) AS r(bucket text, key_id text, version_id text, key text, sequence bigint, is_current boolean, is_delete_marker boolean,
         size_bytes bigint, etag text, checksums jsonb, content_type text, user_metadata jsonb, storage_class text, tags jsonb, hlc text,
         last_modified timestamptz, upload_id text, copy_source jsonb, content_headers jsonb, part_sizes bigint[], acl jsonb)`,
      [JSON.stringify(rows.map(({ chunks: _chunks, ...row }) => row))],
    );
    await insertChunkRows(
      tx,
      t,
      'object_version_chunks',
      rows.map((r) => ({ owner: [r.bucket, r.key_id, r.version_id], chunks: r.chunks })),
    );
    const fromUploads = rows.flatMap((r) => (r.upload_id === null ? [] : [{ bucket: r.bucket, uploadId: r.upload_id }]));
    if (fromUploads.length > 0) await this.uploads.versionsProjected(tx, fromUploads);
  }
}

/*
 * Statements over many keys at once: the keys come as arrays unnested into rows. key_id is
 * char(64), so its array must be char(64)[] too — a text[] makes Postgres compare key_id::text,
 * which no index covers, and each key then scans the whole bucket in the primary key (a batch of
 * new keys into a bucket of 80,000 took 0.5 s; it grew with the bucket).
 */

/** $1 buckets, $2 key ids (parallel arrays), $3 a version id: that version of each key goes. */
export function dropVersionOfKeysSql(versionsTable: string): string {
  return `DELETE FROM ${versionsTable} AS v USING unnest($1::text[], $2::char(64)[]) AS k(bucket, key_id)
         WHERE v.bucket = k.bucket AND v.key_id = k.key_id AND v.version_id = $3`;
}

/** $1 buckets, $2 key ids (parallel arrays): each key's current version stops being current. */
export function demoteCurrentOfKeysSql(versionsTable: string): string {
  return `UPDATE ${versionsTable} AS v SET is_current = false FROM unnest($1::text[], $2::char(64)[]) AS k(bucket, key_id)
       WHERE v.bucket = k.bucket AND v.key_id = k.key_id AND v.is_current`;
}

export function isVersionEvent(event: MetadataEvent): event is VersionEvent {
  return event.type === 'ObjectVersionPut' || event.type === 'ObjectVersionCopied' || event.type === 'DeleteMarkerPut';
}

function versionRowOf(event: VersionEvent, sequence: number): VersionRow {
  const { bucket, keyId, versionId, key, hlc, lastModified } = event.data;
  const common = { bucket, key_id: keyId, version_id: versionId, key, sequence, is_current: event.data.noncurrent !== true, hlc, last_modified: lastModified };
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
      acl: null,
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
    acl: d.acl ?? null,
    chunks: d.chunks,
  };
}
