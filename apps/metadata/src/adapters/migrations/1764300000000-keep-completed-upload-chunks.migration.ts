import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * A completed upload keeps its row, parts and part chunks, marked with the sequence of its
 * completion, until the object version that names it (its upload id) is projected: until then
 * they are the only rows naming its chunks, and chunk.references must keep answering them. NULL
 * for uploads in progress, the only ones the listings show. No backfill: before this, completion
 * dropped the rows at once.
 */
export class KeepCompletedUploadChunks1764300000000 implements MigrationInterface {
  readonly name = 'KeepCompletedUploadChunks1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('multipart_uploads')} ADD COLUMN completed_sequence bigint`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`DELETE FROM ${t('multipart_uploads')} WHERE completed_sequence IS NOT NULL`);
    await queryRunner.query(`ALTER TABLE ${t('multipart_uploads')} DROP COLUMN completed_sequence`);
  }
}
