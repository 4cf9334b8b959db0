import type { ChunkRef } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';

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

export type ChunkTable = keyof typeof CHUNK_OWNER_COLUMNS;

/** Where each chunk table's erasure-coded chunks keep their shard rows. */
export const SHARD_TABLES: Readonly<Record<ChunkTable, string>> = {
  object_version_chunks: 'object_version_shards',
  multipart_part_chunks: 'multipart_part_shards',
};

/** The chunks of one version (bucket, key id, version id) or one part (bucket, upload id, part number). */
export interface OwnedChunks {
  readonly owner: readonly [string, string, string | number];
  readonly chunks: readonly ChunkRef[];
}

/** The chunk rows of any number of versions (or parts) in one statement, inline bytes included. */
export async function insertChunkRows(tx: EntityManager, t: (table: string) => string, table: ChunkTable, owned: readonly OwnedChunks[]): Promise<void> {
  const rows = owned.flatMap(({ owner: [bucket, owner1, owner2], chunks }) =>
    chunks.map((c, ordinal) => ({ bucket, owner1, owner2, ordinal, hash: c.hash, offset_bytes: c.offsetBytes, size_bytes: c.sizeBytes, inline: c.inline ?? null, erasure: c.erasure ?? null })),
  );
  if (rows.length === 0) return;
  const [[firstColumn, firstType], [secondColumn, secondType]] = CHUNK_OWNER_COLUMNS[table];
  await tx.query(
    `INSERT INTO ${t(table)} (bucket, ${firstColumn}, ${secondColumn}, ordinal, chunk_hash, offset_bytes, size_bytes, inline_data, erasure)
     SELECT bucket, owner1, owner2, ordinal, hash, offset_bytes, size_bytes, decode(inline, 'base64'), erasure
     FROM jsonb_to_recordset($1::jsonb)
       AS c(bucket text, owner1 ${firstType}, owner2 ${secondType}, ordinal integer, hash text, offset_bytes bigint, size_bytes bigint, inline text, erasure jsonb)`,
    [JSON.stringify(rows)],
  );
  // An erasure-coded chunk's shards are what the nodes hold: a row each, by shard hash (GC and repair read them).
  const shards = rows.flatMap((r) =>
    r.erasure === null ? [] : r.erasure.shards.map((hash, shardIndex) => ({ bucket: r.bucket, owner1: r.owner1, owner2: r.owner2, ordinal: r.ordinal, shard_index: shardIndex, hash, size: r.erasure!.shardSizeBytes })),
  );
  if (shards.length === 0) return;
  await tx.query(
    `INSERT INTO ${t(SHARD_TABLES[table])} (bucket, ${firstColumn}, ${secondColumn}, ordinal, shard_index, shard_hash, shard_size_bytes)
     SELECT bucket, owner1, owner2, ordinal, shard_index, hash, size
     FROM jsonb_to_recordset($1::jsonb)
       AS s(bucket text, owner1 ${firstType}, owner2 ${secondType}, ordinal integer, shard_index smallint, hash text, size bigint)`,
    [JSON.stringify(shards)],
  );
}
