import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * Object ACLs (docs/acls.md): each version's ACL, null for the default (private, owned by the
 * bucket's owner). Access-key secrets sealed under the region master key (docs/encryption.md): the
 * ciphertext and the master key version that sealed it; the plaintext column stays for rows of a
 * region without a master key and is emptied by a rebuild of the projection once one is set.
 */
export class AddObjectAclsAndSealedSecrets1765100000000 implements MigrationInterface {
  readonly name = 'AddObjectAclsAndSealedSecrets1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('object_versions')} ADD COLUMN acl jsonb`);
    await queryRunner.query(`ALTER TABLE ${t('access_keys')} ALTER COLUMN secret_access_key DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE ${t('access_keys')} ADD COLUMN sealed_secret text`);
    await queryRunner.query(`ALTER TABLE ${t('access_keys')} ADD COLUMN secret_key_id text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`ALTER TABLE ${t('access_keys')} DROP COLUMN secret_key_id`);
    await queryRunner.query(`ALTER TABLE ${t('access_keys')} DROP COLUMN sealed_secret`);
    await queryRunner.query(`ALTER TABLE ${t('object_versions')} DROP COLUMN acl`);
  }
}
