import { deciderSpecification } from '@cairn/eventing';
import type { BucketCreated, LifecycleConfiguration } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { bucketDecider } from './bucket.decider';

const spec = deciderSpecification(bucketDecider);
const created: BucketCreated = {
  type: 'BucketCreated',
  data: { bucket: 'logs', owner: 'alice', region: 'eu-one', createdAt: '2026-01-01T00:00:00.000Z', versioning: 'Enabled', replication: { mode: 'local' }, defaultStorageClass: 'STANDARD' },
};
const lifecycle: LifecycleConfiguration = {
  rules: [{ id: 'old', status: 'Enabled', filter: { prefix: 'tmp/' }, expiration: { days: 7 }, transitions: [], noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 }, noncurrentVersionTransitions: [] }],
};
const set = { type: 'BucketLifecycleSet', data: { bucket: 'logs', lifecycle } } as const;

describe('bucket decider: lifecycle configuration', () => {
  it('stores a valid configuration, once', () => {
    spec.given([created]).when({ type: 'PutBucketLifecycle', bucket: 'logs', lifecycle }).then([set]);
    spec.given([created, set]).when({ type: 'PutBucketLifecycle', bucket: 'logs', lifecycle }).then([]);
  });

  it('replaces it whole', () => {
    const other: LifecycleConfiguration = { rules: [{ status: 'Disabled', prefix: '', transitions: [], noncurrentVersionTransitions: [], abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }] };
    spec.given([created, set]).when({ type: 'PutBucketLifecycle', bucket: 'logs', lifecycle: other }).then([{ type: 'BucketLifecycleSet', data: { bucket: 'logs', lifecycle: other } }]);
  });

  it('deletes it; deleting none changes nothing', () => {
    spec.given([created, set]).when({ type: 'DeleteBucketLifecycle', bucket: 'logs' }).then([{ type: 'BucketLifecycleDeleted', data: { bucket: 'logs' } }]);
    spec.given([created]).when({ type: 'DeleteBucketLifecycle', bucket: 'logs' }).then([]);
  });

  it.each([
    ['no rules', { rules: [] }, 'MalformedXML'],
    ['no action', { rules: [{ status: 'Enabled', filter: {} }] }, 'InvalidRequest'],
    ['zero days', { rules: [{ status: 'Enabled', filter: {}, expiration: { days: 0 } }] }, 'InvalidArgument'],
  ])('refuses %s with S3 code', (_, bad, code) =>
    spec
      .given([created])
      .when({ type: 'PutBucketLifecycle', bucket: 'logs', lifecycle: bad as never })
      .thenThrows(MetadataError, hasCode(code as never)),
  );

  it('refuses a configuration on a bucket that does not exist', () =>
    spec.given([]).when({ type: 'PutBucketLifecycle', bucket: 'logs', lifecycle }).thenThrows(MetadataError, hasCode('NoSuchBucket')));
});
