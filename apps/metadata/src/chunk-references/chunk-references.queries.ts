import { replicationFactorOf, type ChunkReference, type ShardPlacement } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import type { Row } from '../adapters/read-model-rows';
import { CHUNK_REFERENCE_STRIPES_MAX } from '@cairn/protocol';

/** Hashes in (after, before), at most `limit` (validated by the RPC edge: chunk-reference-range.ts). */
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

/**
 * chunk.references, what garbage collection and repair read: a query across the object-key and
 * multipart-upload tables, owned by neither aggregate.
 */
export class ChunkReferenceQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  /**
   * One page of the distinct chunk hashes in (after, before) that versions or uploads' parts name
   * (open uploads, and completed ones whose version is not projected yet), inline chunks left out,
   * and the META checkpoint the page is exactly as of: the checkpoint row and the chunk rows are
   * read in one REPEATABLE READ snapshot, and the projector commits both together.
   *
   * Each table's hashes come off its chunk_hash index in order, so a page reads about `limit` index
   * entries per table (plus a hash's duplicates) wherever it starts. The index has the column's
   * (the database's) collation, not "C": C, libc and ICU locales alike put digits before letters,
   * so they order lowercase hex as bytes do, and the bounds and the order agree with the callers'.
   * Each chunk's replication factor is the highest its classes keep in a region of
   * `regionReplicationFactor` (CAIRN_REPLICATION_FACTOR): what the repair sweep restores.
   */
  async listChunkReferences(range: ChunkReferenceRange, checkpointName: string, regionReplicationFactor: number): Promise<ChunkReferencePage> {
    const page = chunkReferencePageQuery(this.t, range);
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const [checkpoint]: Row[] = await tx.query(`SELECT sequence FROM ${this.t('projection_checkpoints')} WHERE projection = $1`, [checkpointName]);
      const rows: Row[] = await tx.query(page.sql, page.params);
      const chunks = rows.slice(0, range.limit).map((r): ChunkReference => {
        const classes = (r['storage_classes'] as (string | null)[] | null) ?? [];
        const stripes = (r['stripes'] as ShardPlacement[] | null) ?? [];
        return {
          hash: String(r['chunk_hash']),
          sizeBytes: Number(r['size_bytes']),
          replicationFactor: classes.length === 0 ? 0 : Math.max(...classes.map((c) => replicationFactorOf(c, regionReplicationFactor))),
          ...(stripes.length > 0 ? { stripes } : {}),
        };
      });
      const last = chunks.at(-1);
      return { chunks, nextAfter: rows.length > range.limit && last ? last.hash : null, asOfSequence: checkpoint ? Number(checkpoint['sequence']) : 0 };
    });
  }
}

/**
 * The page of ChunkReferenceQueries.listChunkReferences, one row past `limit` to tell whether more
 * follow. Every part chunk row counts, a completed upload's too (no completed_sequence filter):
 * between its completion and its version's projection nothing else names its chunks. First the
 * page's hashes, each table's off its chunk_hash index in order (DISTINCT and LIMIT inside each
 * branch, so neither reads past the page), then per hash its references' sizes and storage
 * classes, again by the index.
 */
export function chunkReferencePageQuery(t: (table: string) => string, range: ChunkReferenceRange): { readonly sql: string; readonly params: unknown[] } {
  const params: unknown[] = [range.after, range.limit + 1];
  const upper = range.before === null ? '' : `AND chunk_hash < $${params.push(range.before)}`;
  const inRange = `chunk_hash > $1 ${upper} AND inline_data IS NULL AND erasure IS NULL`;
  const shardsInRange = `shard_hash > $1 ${range.before === null ? '' : `AND shard_hash < $3`}`;
  const sql = `WITH page AS (
      SELECT chunk_hash FROM (
        (SELECT DISTINCT chunk_hash FROM ${t('object_version_chunks')} WHERE ${inRange} ORDER BY chunk_hash LIMIT $2)
        UNION
        (SELECT DISTINCT chunk_hash FROM ${t('multipart_part_chunks')} WHERE ${inRange} ORDER BY chunk_hash LIMIT $2)
        UNION
        (SELECT DISTINCT shard_hash FROM ${t('object_version_shards')} WHERE ${shardsInRange} ORDER BY shard_hash LIMIT $2)
        UNION
        (SELECT DISTINCT shard_hash FROM ${t('multipart_part_shards')} WHERE ${shardsInRange} ORDER BY shard_hash LIMIT $2)
      ) AS hashes
      ORDER BY chunk_hash LIMIT $2
    )
    SELECT page.chunk_hash, coalesce(refs.size_bytes, shards.size_bytes) AS size_bytes, refs.storage_classes, shards.stripes
    FROM page CROSS JOIN LATERAL (
      SELECT max(size_bytes) AS size_bytes, jsonb_agg(jsonb_build_object('stripe', stripe, 'index', shard_index, 'layout', erasure)) AS stripes FROM (
        SELECT DISTINCT ON (stripe, shard_index) stripe, shard_index, erasure, size_bytes FROM (
          (SELECT c.chunk_hash AS stripe, s.shard_index, c.erasure, s.shard_size_bytes AS size_bytes
           FROM ${t('object_version_shards')} AS s
           JOIN ${t('object_version_chunks')} AS c ON c.bucket = s.bucket AND c.key_id = s.key_id AND c.version_id = s.version_id AND c.ordinal = s.ordinal
           WHERE s.shard_hash = page.chunk_hash LIMIT ${CHUNK_REFERENCE_STRIPES_MAX})
          UNION ALL
          (SELECT c.chunk_hash AS stripe, s.shard_index, c.erasure, s.shard_size_bytes AS size_bytes
           FROM ${t('multipart_part_shards')} AS s
           JOIN ${t('multipart_part_chunks')} AS c ON c.bucket = s.bucket AND c.upload_id = s.upload_id AND c.part_number = s.part_number AND c.ordinal = s.ordinal
           WHERE s.shard_hash = page.chunk_hash LIMIT ${CHUNK_REFERENCE_STRIPES_MAX})
        ) AS placed
        ORDER BY stripe, shard_index
        LIMIT ${CHUNK_REFERENCE_STRIPES_MAX}
      ) AS distinct_placed
    ) AS shards CROSS JOIN LATERAL (
      SELECT max(size_bytes) AS size_bytes, array_agg(DISTINCT storage_class) AS storage_classes FROM (
        SELECT c.size_bytes, v.storage_class
        FROM ${t('object_version_chunks')} AS c
        JOIN ${t('object_versions')} AS v ON v.bucket = c.bucket AND v.key_id = c.key_id AND v.version_id = c.version_id
        WHERE c.chunk_hash = page.chunk_hash AND c.inline_data IS NULL AND c.erasure IS NULL
        UNION ALL
        SELECT c.size_bytes, u.storage_class
        FROM ${t('multipart_part_chunks')} AS c
        JOIN ${t('multipart_uploads')} AS u ON u.bucket = c.bucket AND u.upload_id = c.upload_id
        WHERE c.chunk_hash = page.chunk_hash AND c.inline_data IS NULL AND c.erasure IS NULL
      ) AS named
    ) AS refs
    ORDER BY page.chunk_hash`;
  return { sql, params };
}
