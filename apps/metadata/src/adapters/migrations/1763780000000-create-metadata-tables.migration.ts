import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * The metadata read model. Keys, bucket names, version and upload ids are text in the "C" collation
 * so that comparisons and indexes follow UTF-8 byte order (= code point order = S3 listing order).
 */
export class CreateMetadataTables1763780000000 implements MigrationInterface {
  readonly name = 'CreateMetadataTables1763780000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    const statements = [
      `CREATE TABLE ${t('projection_checkpoints')} (
        projection text PRIMARY KEY,
        sequence bigint NOT NULL CHECK (sequence >= 0)
      )`,
      `CREATE TABLE ${t('buckets')} (
        name text COLLATE "C" PRIMARY KEY,
        owner text NOT NULL,
        region text NOT NULL,
        created_at timestamptz NOT NULL,
        versioning text NOT NULL CHECK (versioning IN ('Unversioned', 'Enabled', 'Suspended')),
        replication_mode text NOT NULL CHECK (replication_mode IN ('local', 'active-passive', 'active-active')),
        home_region text,
        default_storage_class text NOT NULL,
        tags jsonb NOT NULL DEFAULT '[]',
        deletion_id text,
        created_sequence bigint NOT NULL,
        updated_sequence bigint NOT NULL,
        CHECK ((replication_mode = 'active-passive') = (home_region IS NOT NULL))
      )`,
      `CREATE INDEX buckets_owner_idx ON ${t('buckets')} (owner, name)`,
      `CREATE TABLE ${t('object_versions')} (
        bucket text COLLATE "C" NOT NULL,
        key_id char(64) NOT NULL,
        version_id text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        sequence bigint NOT NULL,
        is_current boolean NOT NULL,
        is_delete_marker boolean NOT NULL,
        size_bytes bigint NOT NULL,
        etag text,
        checksums jsonb NOT NULL DEFAULT '{}',
        content_type text,
        user_metadata jsonb NOT NULL DEFAULT '{}',
        storage_class text,
        tags jsonb NOT NULL DEFAULT '[]',
        hlc text NOT NULL,
        last_modified timestamptz NOT NULL,
        upload_id text,
        copy_source jsonb,
        PRIMARY KEY (bucket, key_id, version_id),
        CHECK (is_delete_marker = (etag IS NULL))
      )`,
      // ListObjects: current, live versions in key order.
      `CREATE UNIQUE INDEX object_versions_current_idx ON ${t('object_versions')} (bucket, key)
        WHERE is_current AND NOT is_delete_marker`,
      // At most one current version per key: an invariant the projection must never break.
      `CREATE UNIQUE INDEX object_versions_one_current_idx ON ${t('object_versions')} (bucket, key_id) WHERE is_current`,
      // ListObjectVersions: keys in order, each key's versions newest first.
      `CREATE INDEX object_versions_listing_idx ON ${t('object_versions')} (bucket, key, sequence DESC)`,
      `CREATE TABLE ${t('object_version_chunks')} (
        bucket text COLLATE "C" NOT NULL,
        key_id char(64) NOT NULL,
        version_id text COLLATE "C" NOT NULL,
        ordinal integer NOT NULL,
        chunk_hash char(64) NOT NULL,
        offset_bytes bigint NOT NULL,
        size_bytes bigint NOT NULL,
        PRIMARY KEY (bucket, key_id, version_id, ordinal),
        FOREIGN KEY (bucket, key_id, version_id) REFERENCES ${t('object_versions')} (bucket, key_id, version_id) ON DELETE CASCADE
      )`,
      `CREATE INDEX object_version_chunks_hash_idx ON ${t('object_version_chunks')} (chunk_hash)`,
      `CREATE TABLE ${t('multipart_uploads')} (
        bucket text COLLATE "C" NOT NULL,
        upload_id text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        key_id char(64) NOT NULL,
        owner text NOT NULL,
        initiated_at timestamptz NOT NULL,
        initiated_sequence bigint NOT NULL,
        content_type text NOT NULL,
        user_metadata jsonb NOT NULL DEFAULT '{}',
        storage_class text NOT NULL,
        tags jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (bucket, upload_id)
      )`,
      `CREATE INDEX multipart_uploads_listing_idx ON ${t('multipart_uploads')} (bucket, key, initiated_sequence, upload_id)`,
      `CREATE TABLE ${t('multipart_parts')} (
        bucket text COLLATE "C" NOT NULL,
        upload_id text COLLATE "C" NOT NULL,
        part_number integer NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
        etag char(32) NOT NULL,
        size_bytes bigint NOT NULL,
        checksums jsonb NOT NULL DEFAULT '{}',
        last_modified timestamptz NOT NULL,
        PRIMARY KEY (bucket, upload_id, part_number),
        FOREIGN KEY (bucket, upload_id) REFERENCES ${t('multipart_uploads')} (bucket, upload_id) ON DELETE CASCADE
      )`,
      `CREATE TABLE ${t('multipart_part_chunks')} (
        bucket text COLLATE "C" NOT NULL,
        upload_id text COLLATE "C" NOT NULL,
        part_number integer NOT NULL,
        ordinal integer NOT NULL,
        chunk_hash char(64) NOT NULL,
        offset_bytes bigint NOT NULL,
        size_bytes bigint NOT NULL,
        PRIMARY KEY (bucket, upload_id, part_number, ordinal),
        FOREIGN KEY (bucket, upload_id, part_number) REFERENCES ${t('multipart_parts')} (bucket, upload_id, part_number) ON DELETE CASCADE
      )`,
      `CREATE INDEX multipart_part_chunks_hash_idx ON ${t('multipart_part_chunks')} (chunk_hash)`,
      `CREATE TABLE ${t('access_keys')} (
        access_key_id text PRIMARY KEY,
        secret_access_key text NOT NULL,
        owner text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`,
      `CREATE TABLE ${t('storage_nodes')} (
        node_id text PRIMARY KEY,
        zone text NOT NULL,
        host text NOT NULL,
        address text NOT NULL,
        weight integer NOT NULL CHECK (weight > 0),
        capacity_bytes bigint NOT NULL,
        draining boolean NOT NULL,
        joined_at timestamptz NOT NULL,
        epoch bigint NOT NULL
      )`,
      `CREATE TABLE ${t('ring_epoch')} (
        id smallint PRIMARY KEY CHECK (id = 1),
        epoch bigint NOT NULL
      )`,
    ];
    for (const sql of statements) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    const tables = [
      'ring_epoch',
      'storage_nodes',
      'access_keys',
      'multipart_part_chunks',
      'multipart_parts',
      'multipart_uploads',
      'object_version_chunks',
      'object_versions',
      'buckets',
      'projection_checkpoints',
    ];
    for (const table of tables) await queryRunner.query(`DROP TABLE ${t(table)}`);
  }
}
