import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createMetadataDataSource, dropMetadataSchema, migrateMetadataSchema } from '../adapters/metadata-data-source';
import { metadataSchemaName, tableIn } from '../adapters/metadata-schema';

/** The machine's Postgres (trust auth), as integration tests use it. */
export const TEST_DATABASE = { host: '127.0.0.1', port: 5432, username: 'postgres', database: 'postgres' } as const;

const RANDOM_SUFFIX_BYTES = 6;

/** A migrated schema of its own, named after a random namespace; `drop` removes it. */
export async function openTestSchema(label: string): Promise<{ dataSource: DataSource; schema: string; drop: () => Promise<void> }> {
  const schema = metadataSchemaName(`t_${label}_${randomBytes(RANDOM_SUFFIX_BYTES).toString('hex')}`);
  const dataSource = createMetadataDataSource({ ...TEST_DATABASE, schema, poolSize: 2 });
  await dataSource.initialize();
  await migrateMetadataSchema(dataSource);
  return {
    dataSource,
    schema,
    drop: async () => {
      await dropMetadataSchema(dataSource);
      await dataSource.destroy();
    },
  };
}

const SNAPSHOT_ORDER: Readonly<Record<string, string>> = {
  buckets: 'name',
  object_versions: 'bucket, key_id, version_id',
  object_version_chunks: 'bucket, key_id, version_id, ordinal',
  multipart_uploads: 'bucket, upload_id',
  multipart_parts: 'bucket, upload_id, part_number',
  multipart_part_chunks: 'bucket, upload_id, part_number, ordinal',
  access_keys: 'access_key_id',
  users: 'name',
  storage_nodes: 'node_id',
  ring_epoch: 'id',
  conflict_log: 'bucket, conflict_id',
  projection_checkpoints: 'projection',
};

/** Every row of every read-model table, in key order: two equal snapshots are the same state. */
export async function snapshotReadModel(dataSource: DataSource, schema: string): Promise<Record<string, unknown[]>> {
  const t = tableIn(schema);
  const snapshot: Record<string, unknown[]> = {};
  for (const [table, order] of Object.entries(SNAPSHOT_ORDER)) {
    snapshot[table] = await dataSource.query(`SELECT * FROM ${t(table)} ORDER BY ${order}`);
  }
  return snapshot;
}
