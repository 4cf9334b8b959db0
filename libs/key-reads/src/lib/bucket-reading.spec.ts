import type { StoredEvent } from '@cairn/eventing';
import type { MetadataError } from './metadata-error';
import { bucketAsRead, readsMayWaitForReplication, versionToServeInBucket } from './bucket-reading';
import { NO_INCARNATION } from './bucket-incarnation';
import { keyReadFold } from './object-key.reading';

const bucket = 'photos';
const stored = (sequence: number, type: string, data: Record<string, unknown> = {}): StoredEvent =>
  ({ sequence, envelope: { id: `e${sequence}`, type, schemaVersion: 1, occurredAt: '2026-12-05T00:00:00.000Z', data: { bucket, ...data } } }) as unknown as StoredEvent;

describe('bucketAsRead', () => {
  it('follows the bucket life and its latest replication, as its decider does', () => {
    expect(bucketAsRead([])).toEqual({ incarnation: NO_INCARNATION, replication: null });
    const created = stored(3, 'BucketCreated', { replication: { mode: 'local' } });
    expect(bucketAsRead([created])).toEqual({ incarnation: 3, replication: { mode: 'local' } });
    const passive = stored(5, 'BucketReplicationChanged', { replication: { mode: 'active-passive', homeRegion: 'eu' } });
    expect(bucketAsRead([created, stored(4, 'BucketTagsSet'), passive])).toEqual({ incarnation: 3, replication: { mode: 'active-passive', homeRegion: 'eu' } });
    expect(bucketAsRead([created, passive, stored(6, 'BucketDeleted')])).toEqual({ incarnation: NO_INCARNATION, replication: null });
    // Created again: a new life, with the replication it was created with.
    expect(bucketAsRead([created, passive, stored(6, 'BucketDeleted'), stored(9, 'BucketCreated', { replication: { mode: 'active-active' } })])).toEqual({
      incarnation: 9,
      replication: { mode: 'active-active' },
    });
  });

  it('says only active-passive reads may wait for replication', () => {
    expect(readsMayWaitForReplication(null)).toBe(false);
    expect(readsMayWaitForReplication(undefined)).toBe(false);
    expect(readsMayWaitForReplication({ mode: 'local' })).toBe(false);
    expect(readsMayWaitForReplication({ mode: 'active-active' })).toBe(false);
    expect(readsMayWaitForReplication({ mode: 'active-passive', homeRegion: 'eu' })).toBe(true);
  });
});

describe('versionToServeInBucket', () => {
  it('refuses a read of a bucket that does not exist with NoSuchBucket', () => {
    let refused: MetadataError | undefined;
    try {
      versionToServeInBucket(keyReadFold.initial(), NO_INCARNATION, bucket, 'k');
    } catch (error) {
      refused = error as MetadataError;
    }
    expect(refused).toMatchObject({ code: 'NoSuchBucket', message: 'bucket photos does not exist', details: { bucket } });
    expect(() => versionToServeInBucket(keyReadFold.initial(), 3, bucket, 'k')).toThrow(expect.objectContaining({ code: 'NoSuchKey' }));
  });
});
