import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * Users (UserCreated) and a bucket's access settings: its ACL (BucketAclSet), Object Ownership
 * (as created, or BucketOwnershipControlsSet) and PublicAccessBlock, NULL when it has none. No
 * backfill: there were none before; keys' owners without a user row read as implicit users.
 */
export class AddUsersAndBucketAccess1764800000000 implements MigrationInterface {
  readonly name = 'AddUsersAndBucketAccess1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('buckets')} ADD COLUMN acl jsonb, ADD COLUMN object_ownership text, ADD COLUMN public_access_block jsonb`);
    await queryRunner.query(
      `CREATE TABLE ${t('users')} (
        name text PRIMARY KEY,
        canonical_id text NOT NULL UNIQUE,
        display_name text NOT NULL,
        email text UNIQUE,
        created_at timestamptz NOT NULL
      )`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`DROP TABLE ${t('users')}`);
    await queryRunner.query(`ALTER TABLE ${t('buckets')} DROP COLUMN acl, DROP COLUMN object_ownership, DROP COLUMN public_access_block`);
  }
}
