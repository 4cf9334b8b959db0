import type { DataSource } from 'typeorm';
import { assertNamespace } from '@cairn/protocol';

const SCHEMA_PREFIX = 'cairn';

/**
 * Every metadata table lives in one Postgres schema per namespace (CAIRN_NS), so parallel test
 * runs and co-hosted regions never see each other's rows. The empty namespace is `cairn`.
 */
export function metadataSchemaName(ns: string): string {
  assertNamespace(ns);
  return ns ? `${SCHEMA_PREFIX}_${ns.toLowerCase()}` : SCHEMA_PREFIX;
}

const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_-]{0,62}$/;

/** A schema name quoted for SQL; names are built here, never from user input, and checked anyway. */
export function quoteSchema(schema: string): string {
  if (!IDENTIFIER_PATTERN.test(schema)) throw new Error(`"${schema}" is not a schema name this service creates`);
  return `"${schema}"`;
}

/** `"schema"."table"` for raw SQL. */
export function tableIn(schema: string): (table: string) => string {
  const quoted = quoteSchema(schema);
  return (table) => `${quoted}."${table}"`;
}

/** The schema a metadata data source (and so each of its migrations) works in. */
export function schemaOf(dataSource: DataSource): string {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (!schema) throw new Error('the metadata data source must name its schema');
  return schema;
}
