import type { ListReplicaLeavesReply, ReplicaLeafPosition } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import type { Row } from '../adapters/read-model-rows';

/** A validated ListReplicaLeavesRequest (replica-leaves-request.ts). */
export interface ReplicaLeafRange {
  readonly bucket: string;
  /** 0..64 lowercase hex digits. */
  readonly keyIdPrefix: string;
  readonly after: ReplicaLeafPosition | null;
  /** Keys strictly after this key id (never with `after`). */
  readonly afterKeyId: string | null;
  readonly limit: number;
}

const KEY_ID_DIGITS = 64;

/**
 * replication.leaves: a bucket's versions and delete markers as anti-entropy's Merkle leaves, in
 * (key_id, version_id) order — the primary key's — so a page reads about `limit` index entries
 * wherever it starts, and a key-id prefix is one contiguous slice of the index. key_id is char(64)
 * in the database's collation; lowercase hex orders the same in C, libc and ICU locales (digits
 * before letters), so the bounds agree with the callers' byte order.
 */
export class ReplicaLeafQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  /** One page, read with the META checkpoint in one REPEATABLE READ snapshot (the projector commits both together). */
  async listReplicaLeaves(range: ReplicaLeafRange, checkpointName: string): Promise<ListReplicaLeavesReply> {
    const low = range.keyIdPrefix.padEnd(KEY_ID_DIGITS, '0');
    const high = range.keyIdPrefix.padEnd(KEY_ID_DIGITS, 'f');
    const params: unknown[] = [range.bucket, low, high, range.limit + 1];
    const after =
      range.after !== null
        ? `AND (key_id, version_id) > ($${params.push(range.after.keyId)}::char(64), $${params.push(range.after.versionId)})`
        : range.afterKeyId !== null
          ? `AND key_id > $${params.push(range.afterKeyId)}::char(64)`
          : '';
    const sql = `SELECT key_id, key, version_id, etag, is_delete_marker FROM ${this.t('object_versions')}
      WHERE bucket = $1 AND key_id BETWEEN $2::char(64) AND $3::char(64) ${after}
      ORDER BY key_id, version_id LIMIT $4`;
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const [checkpoint]: Row[] = await tx.query(`SELECT sequence FROM ${this.t('projection_checkpoints')} WHERE projection = $1`, [checkpointName]);
      const rows: Row[] = await tx.query(sql, params);
      const leaves = rows.slice(0, range.limit).map((r) => ({
        keyId: String(r['key_id']),
        key: String(r['key']),
        versionId: String(r['version_id']),
        etag: r['etag'] === null ? null : String(r['etag']),
        deleted: Boolean(r['is_delete_marker']),
      }));
      const last = leaves.at(-1);
      return {
        leaves,
        next: rows.length > range.limit && last ? { keyId: last.keyId, versionId: last.versionId } : null,
        asOfSequence: checkpoint ? Number(checkpoint['sequence']) : 0,
      };
    });
  }
}
