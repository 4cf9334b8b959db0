import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/** The bucket's lifecycle configuration (BucketLifecycleSet), NULL when it has none. No backfill: there were none before. */
export class AddBucketLifecycle1764900000000 implements MigrationInterface {
  readonly name = 'AddBucketLifecycle1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} ADD COLUMN lifecycle jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} DROP COLUMN lifecycle`);
  }
}
