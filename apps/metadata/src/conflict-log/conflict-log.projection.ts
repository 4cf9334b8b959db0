import type { ConflictResolved } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import type { BucketContents, BucketLives } from '../bucket/bucket.projection';
import type { MetadataProjectionPart } from '../projections/projection-part';

/**
 * conflict_log: one row per conflict resolved on a bucket's keys (ConflictResolved), keyed by
 * (bucket, conflict_id). The same conflict may be recorded more than once — each region that met
 * both sides resolves it, with the same conflictId, and a change can be applied again — so the
 * first event of an id makes the row and later ones change nothing: a replay yields the same rows.
 * Conflicts of a bucket life the read model does not hold are skipped, and a deleted bucket's
 * conflicts go with it (BucketContents), like its versions.
 *
 * Not an aggregate's part: it takes one object-key event type, which the object key's part
 * handles too (MetadataProjection hands an event to every part of its type).
 */
export class ConflictLogProjection implements MetadataProjectionPart<ConflictResolved>, BucketContents {
  readonly handles: readonly ConflictResolved['type'][] = ['ConflictResolved'];

  constructor(
    private readonly t: (table: string) => string,
    private readonly lives: BucketLives,
  ) {}

  async apply(tx: EntityManager, event: ConflictResolved, sequence: number): Promise<void> {
    const d = event.data;
    if (!(await this.lives.isOfCurrentLife(tx, d.bucket, d.incarnation))) return;
    await tx.query(
      `INSERT INTO ${this.t('conflict_log')} (bucket, conflict_id, key, key_id, winner, loser, loser_version_id, resolved_at, sequence)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::timestamptz, $9)
       ON CONFLICT (bucket, conflict_id) DO NOTHING`,
      [d.bucket, d.conflictId, d.key, d.keyId, JSON.stringify(sideOf(d.winner)), JSON.stringify(sideOf(d.loser)), d.loserVersionId ?? null, d.resolvedAt, sequence],
    );
  }

  async dropBucket(tx: EntityManager, bucket: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.t('conflict_log')} WHERE bucket = $1`, [bucket]);
  }
}

/** The side's four fields alone, so that nothing else an event carries lands in the row. */
function sideOf(side: ConflictResolved['data']['winner']): ConflictResolved['data']['winner'] {
  return { versionId: side.versionId, region: side.region, hlc: side.hlc, kind: side.kind };
}
