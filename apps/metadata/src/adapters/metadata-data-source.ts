import { DataSource } from 'typeorm';
import { quoteSchema, schemaOf } from './metadata-schema';
import { METADATA_MIGRATIONS } from './migrations';

export interface MetadataDatabaseOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string;
  readonly database: string;
  /** From metadataSchemaName(CAIRN_NS). */
  readonly schema: string;
  readonly poolSize?: number;
}

const MIGRATIONS_TABLE = 'metadata_migrations';
const DEFAULT_POOL_SIZE = 10;

/**
 * A DataSource whose migrations and migrations table live in the namespace's schema. No entities:
 * the read model is plain SQL (the migrations define it; projections and queries write and read it).
 */
export function createMetadataDataSource(options: MetadataDatabaseOptions): DataSource {
  quoteSchema(options.schema);
  return new DataSource({
    type: 'postgres',
    host: options.host,
    port: options.port,
    username: options.username,
    password: options.password,
    database: options.database,
    schema: options.schema,
    migrations: [...METADATA_MIGRATIONS],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
  });
}

/** Creates the schema if it is missing and runs the pending migrations; safe to call on every start. */
export async function migrateMetadataSchema(dataSource: DataSource): Promise<void> {
  const schema = schemaOf(dataSource);
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(schema)}`);
  await dataSource.runMigrations({ transaction: 'each' });
}

/** Drops the whole namespace schema: test teardown, and the first step of a rebuild. */
export async function dropMetadataSchema(dataSource: DataSource): Promise<void> {
  await dataSource.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schemaOf(dataSource))} CASCADE`);
}

