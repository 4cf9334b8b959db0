import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * S3's stored content headers (Cache-Control, Content-Disposition, …; ContentHeaders in
 * @cairn/protocol) on versions and on uploads in progress, and the part sizes of multipart
 * versions (NULL for single-part versions, delete markers, and multipart versions projected
 * before part sizes were recorded).
 */
export class AddContentHeaders1764200000000 implements MigrationInterface {
  readonly name = 'AddContentHeaders1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    const statements = [
      `ALTER TABLE ${t('object_versions')} ADD COLUMN content_headers jsonb NOT NULL DEFAULT '{}'`,
      `ALTER TABLE ${t('object_versions')} ADD COLUMN part_sizes bigint[]`,
      `ALTER TABLE ${t('multipart_uploads')} ADD COLUMN content_headers jsonb NOT NULL DEFAULT '{}'`,
    ];
    for (const sql of statements) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    const statements = [
      `ALTER TABLE ${t('multipart_uploads')} DROP COLUMN content_headers`,
      `ALTER TABLE ${t('object_versions')} DROP COLUMN part_sizes`,
      `ALTER TABLE ${t('object_versions')} DROP COLUMN content_headers`,
    ];
    for (const sql of statements) await queryRunner.query(sql);
  }
}
