import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/** The bucket policy's JSON text (BucketPolicySet), NULL when the bucket has none. No backfill: there were no policies before. */
export class AddBucketPolicy1764400000000 implements MigrationInterface {
  readonly name = 'AddBucketPolicy1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} ADD COLUMN policy text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} DROP COLUMN policy`);
  }
}
