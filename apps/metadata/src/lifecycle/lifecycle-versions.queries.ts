import { LIFECYCLE_VERSIONS_PER_KEY_MAX, type LifecycleKeyVersions, type ListLifecycleVersionsReply, type Tag } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';
import { requireBucket } from '../bucket/bucket.queries';

/**
 * lifecycle.versions: a page of a bucket's keys (in key-id order, the primary key's) with all their
 * versions, newest first, read with the META checkpoint in one REPEATABLE READ snapshot. Two
 * index-ordered reads: the page's key ids, then their versions.
 */
export class LifecycleVersionQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async listLifecycleVersions(bucket: string, afterKeyId: string | null, limit: number, checkpointName: string): Promise<ListLifecycleVersionsReply> {
    await requireBucket(this.dataSource, this.t, bucket);
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const [checkpoint]: Row[] = await tx.query(`SELECT sequence FROM ${this.t('projection_checkpoints')} WHERE projection = $1`, [checkpointName]);
      const keyRows: Row[] = await tx.query(
        `SELECT DISTINCT key_id FROM ${this.t('object_versions')} WHERE bucket = $1 ${afterKeyId === null ? '' : 'AND key_id > $3::char(64)'} ORDER BY key_id LIMIT $2`,
        afterKeyId === null ? [bucket, limit + 1] : [bucket, limit + 1, afterKeyId],
      );
      const keyIds = keyRows.slice(0, limit).map((r) => String(r['key_id']));
      const keys: LifecycleKeyVersions[] = [];
      for (const keyId of keyIds) {
        const rows: Row[] = await tx.query(
          `SELECT key, version_id, is_current, is_delete_marker, size_bytes, last_modified, storage_class, tags, hlc
             FROM ${this.t('object_versions')} WHERE bucket = $1 AND key_id = $2 ORDER BY sequence DESC LIMIT $3`,
          [bucket, keyId, LIFECYCLE_VERSIONS_PER_KEY_MAX],
        );
        if (rows.length === 0) continue;
        keys.push({
          keyId,
          key: String(rows[0]['key']),
          versions: rows.map((r) => ({
            versionId: String(r['version_id']),
            isLatest: Boolean(r['is_current']),
            isDeleteMarker: Boolean(r['is_delete_marker']),
            sizeBytes: Number(r['size_bytes']),
            lastModified: toIso(r['last_modified']),
            storageClass: r['storage_class'] === null ? null : String(r['storage_class']),
            tags: (r['tags'] as Tag[] | null) ?? [],
            hlc: String(r['hlc']),
          })),
        });
      }
      return {
        keys,
        nextAfterKeyId: keyRows.length > limit ? (keyIds.at(-1) ?? null) : null,
        asOfSequence: checkpoint ? Number(checkpoint['sequence']) : 0,
      };
    });
  }
}
