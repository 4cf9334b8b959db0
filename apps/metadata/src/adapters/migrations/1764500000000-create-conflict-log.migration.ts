import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf, tableIn } from '../metadata-schema';

/**
 * The conflict log (ConflictResolved): one row per conflict of a bucket, listed by when it was
 * resolved. No backfill: there were no conflicts before regions federated.
 */
export class CreateConflictLog1764500000000 implements MigrationInterface {
  readonly name = 'CreateConflictLog1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`CREATE TABLE ${t('conflict_log')} (
      bucket text COLLATE "C" NOT NULL,
      conflict_id text COLLATE "C" NOT NULL,
      key text COLLATE "C" NOT NULL,
      key_id char(64) NOT NULL,
      winner jsonb NOT NULL,
      loser jsonb NOT NULL,
      loser_version_id text COLLATE "C",
      resolved_at timestamptz NOT NULL,
      sequence bigint NOT NULL,
      PRIMARY KEY (bucket, conflict_id)
    )`);
    // ListConflicts: a bucket's conflicts by resolution time (since/until), then id (the page cursor).
    await queryRunner.query(`CREATE INDEX conflict_log_resolved_idx ON ${t('conflict_log')} (bucket, resolved_at, conflict_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const t = tableIn(schemaOf(queryRunner.connection));
    await queryRunner.query(`DROP TABLE ${t('conflict_log')}`);
  }
}
