import { replicationFactorOf, type StorageCapacityReply, type StorageClassCapacity } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import type { Row } from '../adapters/read-model-rows';

/** Copies STANDARD keeps: what erasure coding's saving is measured against. */
export const REFERENCE_COPIES = 3;

/**
 * capacity.classes: per storage class, the versions' logical bytes and what their chunks take on the
 * nodes (replicated chunks times their class's copies at the region's replication factor,
 * erasure-coded stripes their k+m shards), read in one snapshot with the checkpoint it is as of. A
 * scan of the version and chunk tables: for the admin API and metrics, which ask it at most every
 * few seconds.
 */
export class StorageCapacityQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async byClass(checkpointName: string, regionReplicationFactor: number): Promise<StorageCapacityReply> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const [checkpoint]: Row[] = await tx.query(`SELECT sequence FROM ${this.t('projection_checkpoints')} WHERE projection = $1`, [checkpointName]);
      const versions: Row[] = await tx.query(
        `SELECT storage_class, count(*) AS versions, coalesce(sum(size_bytes), 0) AS logical_bytes
         FROM ${this.t('object_versions')} WHERE NOT is_delete_marker GROUP BY storage_class`,
      );
      const chunks: Row[] = await tx.query(
        `SELECT v.storage_class,
           coalesce(sum(c.size_bytes) FILTER (WHERE c.inline_data IS NOT NULL), 0) AS inline_bytes,
           coalesce(sum(c.size_bytes) FILTER (WHERE c.inline_data IS NULL AND c.erasure IS NULL), 0) AS replicated_bytes,
           coalesce(sum(c.size_bytes) FILTER (WHERE c.erasure IS NOT NULL), 0) AS coded_bytes,
           coalesce(sum((c.erasure->>'shardSizeBytes')::bigint * ((c.erasure->>'dataShards')::int + (c.erasure->>'parityShards')::int)) FILTER (WHERE c.erasure IS NOT NULL), 0) AS coded_raw_bytes
         FROM ${this.t('object_version_chunks')} AS c
         JOIN ${this.t('object_versions')} AS v ON v.bucket = c.bucket AND v.key_id = c.key_id AND v.version_id = c.version_id
         GROUP BY v.storage_class`,
      );
      const byClass = new Map<string, Row>(chunks.map((r) => [String(r['storage_class']), r]));
      const classes: StorageClassCapacity[] = versions.map((v) => {
        const storageClass = String(v['storage_class']);
        const c = byClass.get(storageClass);
        const replicated = Number(c?.['replicated_bytes'] ?? 0);
        const coded = Number(c?.['coded_bytes'] ?? 0);
        return {
          storageClass,
          versions: Number(v['versions']),
          logicalBytes: Number(v['logical_bytes']),
          inlineBytes: Number(c?.['inline_bytes'] ?? 0),
          storedBytes: replicated * replicationFactorOf(storageClass, regionReplicationFactor) + Number(c?.['coded_raw_bytes'] ?? 0),
          threeCopyBytes: (replicated + coded) * REFERENCE_COPIES,
          erasureCodedBytes: coded,
        };
      });
      classes.sort((a, b) => a.storageClass.localeCompare(b.storageClass));
      return { classes, asOfSequence: checkpoint ? Number(checkpoint['sequence']) : 0 };
    });
  }
}
