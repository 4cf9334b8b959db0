import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/** The bucket's CORS configuration (BucketCorsSet), NULL when it has none. No backfill: there were none before. */
export class AddBucketCors1764460000000 implements MigrationInterface {
  readonly name = 'AddBucketCors1764460000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} ADD COLUMN cors jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} DROP COLUMN cors`);
  }
}
