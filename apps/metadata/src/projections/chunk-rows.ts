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

/** The chunks of one version (bucket, key id, version id) or one part (bucket, upload id, part number). */
export interface OwnedChunks {
  readonly owner: readonly [string, string, string | number];
  readonly chunks: readonly ChunkRef[];
}

/** The chunk rows of any number of versions (or parts) in one statement, inline bytes included. */
export async function insertChunkRows(tx: EntityManager, t: (table: string) => string, table: ChunkTable, owned: readonly OwnedChunks[]): Promise<void> {
  const rows = owned.flatMap(({ owner: [bucket, owner1, owner2], chunks }) =>
    chunks.map((c, ordinal) => ({ bucket, owner1, owner2, ordinal, hash: c.hash, offset_bytes: c.offsetBytes, size_bytes: c.sizeBytes, inline: c.inline ?? null })),
  );
  if (rows.length === 0) return;
  const [[firstColumn, firstType], [secondColumn, secondType]] = CHUNK_OWNER_COLUMNS[table];
  await tx.query(
    `INSERT INTO ${t(table)} (bucket, ${firstColumn}, ${secondColumn}, ordinal, chunk_hash, offset_bytes, size_bytes, inline_data)
     SELECT bucket, owner1, owner2, ordinal, hash, offset_bytes, size_bytes, decode(inline, 'base64')
     FROM jsonb_to_recordset($1::jsonb)
       AS c(bucket text, owner1 ${firstType}, owner2 ${secondType}, ordinal integer, hash text, offset_bytes bigint, size_bytes bigint, inline text)`,
    [JSON.stringify(rows)],
  );
}
