import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/** Small bodies kept in metadata: a chunk row carries its bytes when its ChunkRef was inline. */
export class AddInlineChunks1764100000000 implements MigrationInterface {
  readonly name = 'AddInlineChunks1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    for (const table of ['object_version_chunks', 'multipart_part_chunks']) {
      await queryRunner.query(`ALTER TABLE ${t(table)} ADD COLUMN inline_data bytea`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    for (const table of ['object_version_chunks', 'multipart_part_chunks']) {
      await queryRunner.query(`ALTER TABLE ${t(table)} DROP COLUMN inline_data`);
    }
  }
}
