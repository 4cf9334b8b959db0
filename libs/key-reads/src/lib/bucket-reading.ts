import type { StoredEvent } from '@cairn/eventing';
import { MetadataErrorCodes, type ObjectVersionView, type ReplicationConfig } from '@cairn/protocol';
import { bucketIncarnation, NO_INCARNATION } from './bucket-incarnation';
import { MetadataError } from './metadata-error';
import { versionToServe, type KeyAsRead } from './object-key.reading';

/** What a HEAD/GET needs of its bucket, read from the bucket's own subject. */
export interface BucketAsRead {
  /** The bucket's current life; NO_INCARNATION when it does not exist. */
  readonly incarnation: number;
  /** Its replication as its latest BucketCreated or BucketReplicationChanged set it (null: none, or deleted). */
  readonly replication: ReplicationConfig | null;
}

/** The bucket's life and replication from its history (as its decider folds them). */
export function bucketAsRead(history: readonly StoredEvent[]): BucketAsRead {
  let replication: ReplicationConfig | null = null;
  for (const stored of history) {
    const { type, data } = stored.envelope as { type: string; data: { replication?: ReplicationConfig } };
    if (type === 'BucketCreated' || type === 'BucketReplicationChanged') replication = data.replication ?? null;
    else if (type === 'BucketDeleted') replication = null;
  }
  return { incarnation: bucketIncarnation(history), replication };
}

/**
 * Whether reads of a bucket with this replication may have to wait for replication before this
 * region answers them (metadata's ReplicaReads): only active-passive buckets, in a region that is
 * not their home, with a staleness bound or a forwarded write to wait for. Any other read is answered
 * from this region's subjects as they are.
 */
export function readsMayWaitForReplication(replication: ReplicationConfig | null | undefined): replication is Extract<ReplicationConfig, { mode: 'active-passive' }> {
  return replication?.mode === 'active-passive';
}

/**
 * HEAD/GET of a key in the bucket's life `incarnation` (NO_INCARNATION: the bucket does not exist):
 * the version versionToServe picks, or NoSuchBucket.
 */
export function versionToServeInBucket(key: KeyAsRead, incarnation: number, bucket: string, keyName: string, versionId?: string): ObjectVersionView {
  if (incarnation === NO_INCARNATION) throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
  return versionToServe(key, incarnation, bucket, keyName, versionId);
}
