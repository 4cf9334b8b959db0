import { deciderSpecification } from '@cairn/eventing';
import type { BucketCreated, BucketEvent } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { bucketDecider } from './bucket.decider';

const spec = deciderSpecification(bucketDecider);
const createdAt = '2026-01-01T00:00:00.000Z';
const created = (over: Partial<BucketCreated['data']> = {}): BucketCreated => ({
  type: 'BucketCreated',
  data: { bucket: 'vault', owner: 'alice', region: 'eu-one', createdAt, versioning: 'Unversioned', replication: { mode: 'local' }, defaultStorageClass: 'STANDARD', ...over },
});
const versioned: BucketEvent = { type: 'BucketVersioningChanged', data: { bucket: 'vault', versioning: 'Enabled' } };

describe('bucket decider: encryption and Object Lock', () => {
  it('creates a bucket with Object Lock versioned', () =>
    spec
      .given([])
      .when({ type: 'CreateBucket', bucket: 'vault', owner: 'alice', region: 'eu-one', createdAt, objectLockEnabled: true })
      .then([created({ versioning: 'Enabled', objectLockEnabled: true })]));

  it('never suspends versioning under Object Lock', () =>
    spec
      .given([created({ versioning: 'Enabled', objectLockEnabled: true })])
      .when({ type: 'SetBucketVersioning', bucket: 'vault', versioning: 'Suspended' })
      .thenThrows(MetadataError, hasCode('InvalidBucketState')));

  it('turns Object Lock on only for a versioned bucket, with a default retention of Days or Years', () => {
    const objectLock = { enabled: true as const, defaultRetention: { mode: 'GOVERNANCE' as const, days: 1 } };
    spec.given([created()]).when({ type: 'PutObjectLockConfiguration', bucket: 'vault', objectLock }).thenThrows(MetadataError, hasCode('InvalidBucketState'));
    spec.given([created(), versioned]).when({ type: 'PutObjectLockConfiguration', bucket: 'vault', objectLock }).then([{ type: 'BucketObjectLockConfigured', data: { bucket: 'vault', objectLock } }]);
    spec
      .given([created(), versioned])
      .when({ type: 'PutObjectLockConfiguration', bucket: 'vault', objectLock: { enabled: true, defaultRetention: { mode: 'COMPLIANCE', days: 1, years: 1 } } })
      .thenThrows(MetadataError, hasCode('MalformedXML'));
    spec
      .given([created(), versioned])
      .when({ type: 'PutObjectLockConfiguration', bucket: 'vault', objectLock: { enabled: true, defaultRetention: { mode: 'COMPLIANCE', days: 0 } } })
      .thenThrows(MetadataError, hasCode('InvalidArgument'));
  });

  it('sets, replaces and deletes the default encryption', () => {
    const set: BucketEvent = { type: 'BucketEncryptionSet', data: { bucket: 'vault', encryption: { algorithm: 'AES256' } } };
    spec.given([created()]).when({ type: 'PutBucketEncryption', bucket: 'vault', encryption: { algorithm: 'AES256' } }).then([set]);
    spec.given([created(), set]).when({ type: 'PutBucketEncryption', bucket: 'vault', encryption: { algorithm: 'AES256' } }).then([]);
    spec.given([created(), set]).when({ type: 'DeleteBucketEncryption', bucket: 'vault' }).then([{ type: 'BucketEncryptionDeleted', data: { bucket: 'vault' } }]);
    spec.given([created()]).when({ type: 'DeleteBucketEncryption', bucket: 'vault' }).then([]);
    spec
      .given([created()])
      .when({ type: 'PutBucketEncryption', bucket: 'vault', encryption: { algorithm: 'AES256', kmsKeyId: 'k' } })
      .thenThrows(MetadataError, hasCode('InvalidArgument'));
  });
});
