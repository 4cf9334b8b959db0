import { assertNever } from '@cairn/eventing';
import type { BucketEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import { eventTypes, type MetadataProjectionPart } from '../projections/projection-part';

/** What else a bucket's deletion takes with it: another aggregate's rows in the bucket. */
export interface BucketContents {
  dropBucket(tx: EntityManager, bucket: string): Promise<void>;
}

/**
 * Which life of each bucket name the read model holds (BucketLife in @cairn/protocol): the bucket
 * row's created_sequence, remembered for the rest of the transaction (a batch). Only the bucket
 * projection's BucketCreated/BucketDeleted change it, and they update the memo.
 */
export class BucketLives {
  private readonly memos = new WeakMap<EntityManager, Map<string, number | null>>();

  constructor(private readonly t: (table: string) => string) {}

  /**
   * Whether a key or upload event belongs to the bucket's current life: the bucket exists and the
   * event's incarnation is the row's created_sequence. A write that raced a delete and landed after
   * the name was created again is skipped, the same way on every replay. Events without an
   * incarnation (written before they were recorded) count for any live bucket.
   */
  async isOfCurrentLife(tx: EntityManager, bucket: string, incarnation: number | undefined): Promise<boolean> {
    const current = await this.incarnation(tx, bucket);
    return current !== null && (incarnation === undefined || incarnation === current);
  }

  /** The bucket row's created_sequence (its incarnation), or null when there is no row. */
  async incarnation(tx: EntityManager, bucket: string): Promise<number | null> {
    const known = this.knownIn(tx);
    const remembered = known.get(bucket);
    if (remembered !== undefined) return remembered;
    const rows: { created_sequence: string | number }[] = await tx.query(`SELECT created_sequence FROM ${this.t('buckets')} WHERE name = $1`, [bucket]);
    const incarnation = rows.length > 0 ? Number(rows[0].created_sequence) : null;
    known.set(bucket, incarnation);
    return incarnation;
  }

  created(tx: EntityManager, bucket: string, sequence: number): void {
    this.knownIn(tx).set(bucket, sequence);
  }

  deleted(tx: EntityManager, bucket: string): void {
    this.knownIn(tx).set(bucket, null);
  }

  private knownIn(tx: EntityManager): Map<string, number | null> {
    let known = this.memos.get(tx);
    if (!known) {
      known = new Map();
      this.memos.set(tx, known);
    }
    return known;
  }
}

/** The buckets table: one row per live bucket, its life (created_sequence) and settings. */
export class BucketProjection implements MetadataProjectionPart<BucketEvent> {
  readonly handles = eventTypes<BucketEvent>({
    BucketCreated: true,
    BucketDeletionStarted: true,
    BucketDeletionCancelled: true,
    BucketDeleted: true,
    BucketVersioningChanged: true,
    BucketReplicationChanged: true,
    BucketDefaultStorageClassChanged: true,
    BucketTagsSet: true,
    BucketTagsDeleted: true,
    BucketOwnerChanged: true,
    BucketPolicySet: true,
    BucketPolicyDeleted: true,
    BucketCorsSet: true,
    BucketCorsDeleted: true,
    BucketEncryptionSet: true,
    BucketEncryptionDeleted: true,
    BucketObjectLockConfigured: true,
    BucketAclSet: true,
    BucketOwnershipControlsSet: true,
    BucketOwnershipControlsDeleted: true,
    BucketPublicAccessBlockSet: true,
    BucketPublicAccessBlockDeleted: true,
    BucketLifecycleSet: true,
    BucketLifecycleDeleted: true,
  });

  constructor(
    private readonly t: (table: string) => string,
    private readonly lives: BucketLives,
    /** Dropped, in this order, before the bucket row when the bucket is deleted. */
    private readonly contents: readonly BucketContents[],
  ) {}

  async apply(tx: EntityManager, event: BucketEvent, sequence: number): Promise<void> {
    switch (event.type) {
      case 'BucketCreated': {
        const d = event.data;
        await tx.query(
          `INSERT INTO ${this.t('buckets')} (name, owner, region, created_at, versioning, replication_mode, home_region,
             default_storage_class, tags, deletion_id, created_sequence, updated_sequence)
           VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, '[]'::jsonb, NULL, $9, $9)`,
          [
            d.bucket,
            d.owner,
            d.region,
            d.createdAt,
            d.versioning,
            d.replication.mode,
            d.replication.mode === 'active-passive' ? d.replication.homeRegion : null,
            d.defaultStorageClass,
            sequence,
          ],
        );
        if (d.objectOwnership !== undefined) await this.update(tx, d.bucket, sequence, 'object_ownership = $3', [d.objectOwnership]);
        if (d.objectLockEnabled) await this.update(tx, d.bucket, sequence, 'object_lock = $3::jsonb', [JSON.stringify({ enabled: true })]);
        this.lives.created(tx, d.bucket, sequence);
        return;
      }
      case 'BucketDeletionStarted':
        return this.update(tx, event.data.bucket, sequence, 'deletion_id = $3', [event.data.deletionId]);
      case 'BucketDeletionCancelled':
        return this.update(tx, event.data.bucket, sequence, 'deletion_id = NULL', []);
      case 'BucketDeleted':
        // Uploads left in progress and writes that raced the seal go with the bucket.
        for (const contents of this.contents) await contents.dropBucket(tx, event.data.bucket);
        await tx.query(`DELETE FROM ${this.t('buckets')} WHERE name = $1`, [event.data.bucket]);
        this.lives.deleted(tx, event.data.bucket);
        return;
      case 'BucketVersioningChanged':
        return this.update(tx, event.data.bucket, sequence, 'versioning = $3', [event.data.versioning]);
      case 'BucketReplicationChanged': {
        const r = event.data.replication;
        return this.update(tx, event.data.bucket, sequence, 'replication_mode = $3, home_region = $4', [r.mode, r.mode === 'active-passive' ? r.homeRegion : null]);
      }
      case 'BucketDefaultStorageClassChanged':
        return this.update(tx, event.data.bucket, sequence, 'default_storage_class = $3', [event.data.defaultStorageClass]);
      case 'BucketTagsSet':
        return this.update(tx, event.data.bucket, sequence, 'tags = $3::jsonb', [JSON.stringify(event.data.tags)]);
      case 'BucketTagsDeleted':
        return this.update(tx, event.data.bucket, sequence, `tags = '[]'::jsonb`, []);
      case 'BucketOwnerChanged':
        return this.update(tx, event.data.bucket, sequence, 'owner = $3', [event.data.owner]);
      case 'BucketPolicySet':
        return this.update(tx, event.data.bucket, sequence, 'policy = $3', [event.data.policy]);
      case 'BucketPolicyDeleted':
        return this.update(tx, event.data.bucket, sequence, 'policy = NULL', []);
      case 'BucketCorsSet':
        return this.update(tx, event.data.bucket, sequence, 'cors = $3::jsonb', [JSON.stringify(event.data.cors)]);
      case 'BucketCorsDeleted':
        return this.update(tx, event.data.bucket, sequence, 'cors = NULL', []);
      case 'BucketEncryptionSet':
        return this.update(tx, event.data.bucket, sequence, 'encryption = $3::jsonb', [JSON.stringify(event.data.encryption)]);
      case 'BucketEncryptionDeleted':
        return this.update(tx, event.data.bucket, sequence, 'encryption = NULL', []);
      case 'BucketObjectLockConfigured':
        return this.update(tx, event.data.bucket, sequence, 'object_lock = $3::jsonb', [JSON.stringify(event.data.objectLock)]);
      case 'BucketLifecycleSet':
        return this.update(tx, event.data.bucket, sequence, 'lifecycle = $3::jsonb', [JSON.stringify(event.data.lifecycle)]);
      case 'BucketLifecycleDeleted':
        return this.update(tx, event.data.bucket, sequence, 'lifecycle = NULL', []);
      case 'BucketAclSet':
        return this.update(tx, event.data.bucket, sequence, 'acl = $3::jsonb', [JSON.stringify(event.data.acl)]);
      case 'BucketOwnershipControlsSet':
        return this.update(tx, event.data.bucket, sequence, 'object_ownership = $3', [event.data.objectOwnership]);
      case 'BucketOwnershipControlsDeleted':
        return this.update(tx, event.data.bucket, sequence, 'object_ownership = NULL', []);
      case 'BucketPublicAccessBlockSet':
        return this.update(tx, event.data.bucket, sequence, 'public_access_block = $3::jsonb', [JSON.stringify(event.data.publicAccessBlock)]);
      case 'BucketPublicAccessBlockDeleted':
        return this.update(tx, event.data.bucket, sequence, 'public_access_block = NULL', []);
      default:
        return assertNever(event, 'bucket event');
    }
  }

  private async update(tx: EntityManager, bucket: string, sequence: number, assignments: string, values: readonly unknown[]): Promise<void> {
    await tx.query(`UPDATE ${this.t('buckets')} SET ${assignments}, updated_sequence = $2 WHERE name = $1`, [bucket, sequence, ...values]);
  }
}
