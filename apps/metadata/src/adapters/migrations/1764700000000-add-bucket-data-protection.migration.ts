import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/** The bucket's default encryption and Object Lock configuration, NULL when it has none. No backfill: there were none before. */
export class AddBucketDataProtection1764700000000 implements MigrationInterface {
  readonly name = 'AddBucketDataProtection1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} ADD COLUMN encryption jsonb, ADD COLUMN object_lock jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} DROP COLUMN encryption, DROP COLUMN object_lock`);
  }
}
