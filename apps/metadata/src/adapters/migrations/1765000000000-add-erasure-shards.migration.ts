import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * Erasure-coded chunks (docs/storage-classes.md): a chunk row keeps its stripe (ChunkRef.erasure),
 * and each of the stripe's shards gets a row of its own, by shard hash, so that garbage collection
 * and the repair sweep see the shards the nodes hold (not the chunk's hash, which no node holds).
 * Shard rows go with their chunk row (cascade), renames of a version included.
 */
export class AddErasureShards1765000000000 implements MigrationInterface {
  readonly name = 'AddErasureShards1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('object_version_chunks')} ADD COLUMN erasure jsonb`);
    await queryRunner.query(`ALTER TABLE ${t('multipart_part_chunks')} ADD COLUMN erasure jsonb`);
    await queryRunner.query(`CREATE TABLE ${t('object_version_shards')} (
      bucket text COLLATE "C" NOT NULL,
      key_id char(64) NOT NULL,
      version_id text COLLATE "C" NOT NULL,
      ordinal integer NOT NULL,
      shard_index smallint NOT NULL,
      shard_hash char(64) NOT NULL,
      shard_size_bytes bigint NOT NULL,
      PRIMARY KEY (bucket, key_id, version_id, ordinal, shard_index),
      FOREIGN KEY (bucket, key_id, version_id, ordinal) REFERENCES ${t('object_version_chunks')} (bucket, key_id, version_id, ordinal) ON DELETE CASCADE ON UPDATE CASCADE
    )`);
    await queryRunner.query(`CREATE INDEX object_version_shards_hash_idx ON ${t('object_version_shards')} (shard_hash)`);
    await queryRunner.query(`CREATE TABLE ${t('multipart_part_shards')} (
      bucket text COLLATE "C" NOT NULL,
      upload_id text COLLATE "C" NOT NULL,
      part_number integer NOT NULL,
      ordinal integer NOT NULL,
      shard_index smallint NOT NULL,
      shard_hash char(64) NOT NULL,
      shard_size_bytes bigint NOT NULL,
      PRIMARY KEY (bucket, upload_id, part_number, ordinal, shard_index),
      FOREIGN KEY (bucket, upload_id, part_number, ordinal) REFERENCES ${t('multipart_part_chunks')} (bucket, upload_id, part_number, ordinal) ON DELETE CASCADE ON UPDATE CASCADE
    )`);
    await queryRunner.query(`CREATE INDEX multipart_part_shards_hash_idx ON ${t('multipart_part_shards')} (shard_hash)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`DROP TABLE ${t('multipart_part_shards')}`);
    await queryRunner.query(`DROP TABLE ${t('object_version_shards')}`);
    await queryRunner.query(`ALTER TABLE ${t('multipart_part_chunks')} DROP COLUMN erasure`);
    await queryRunner.query(`ALTER TABLE ${t('object_version_chunks')} DROP COLUMN erasure`);
  }
}
