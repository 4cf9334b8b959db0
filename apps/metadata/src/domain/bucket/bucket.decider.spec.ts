import { deciderSpecification } from '@cairn/eventing';
import { bucketNameProblem, type BucketCreated } from '@cairn/protocol';
import { hasCode, MetadataError } from '../shared/metadata.errors';
import { bucketDecider } from './bucket.decider';
import type { CreateBucket } from './bucket.commands';

const spec = deciderSpecification(bucketDecider);
const createdAt = '2026-01-01T00:00:00.000Z';
const create: CreateBucket = { type: 'CreateBucket', bucket: 'photos', owner: 'alice', region: 'eu-one', createdAt };
const created: BucketCreated = {
  type: 'BucketCreated',
  data: {
    bucket: 'photos',
    owner: 'alice',
    region: 'eu-one',
    createdAt,
    versioning: 'Unversioned',
    replication: { mode: 'local' },
    defaultStorageClass: 'STANDARD',
  },
};
const sealed = { type: 'BucketDeletionStarted', data: { bucket: 'photos', deletionId: 'd1', startedAt: createdAt } } as const;

describe('bucket decider', () => {
  describe('CreateBucket', () => {
    it('creates an unversioned, local, STANDARD bucket by default', () => spec.given([]).when(create).then([created]));

    it('takes versioning, replication and storage class from the command', () =>
      spec
        .given([])
        .when({ ...create, versioningEnabled: true, replication: { mode: 'active-passive', homeRegion: 'us-two' }, defaultStorageClass: 'REDUCED_REDUNDANCY' })
        .then([
          {
            ...created,
            data: { ...created.data, versioning: 'Enabled', replication: { mode: 'active-passive', homeRegion: 'us-two' }, defaultStorageClass: 'REDUCED_REDUNDANCY' },
          },
        ]));

    it('refuses an existing bucket of another owner with BucketAlreadyExists', () =>
      spec.given([created]).when({ ...create, owner: 'bob' }).thenThrows(MetadataError, hasCode('BucketAlreadyExists')));

    it('refuses an existing bucket of the same owner with BucketAlreadyOwnedByYou', () =>
      spec.given([created]).when(create).thenThrows(MetadataError, hasCode('BucketAlreadyOwnedByYou')));

    it('creates a bucket again after it was deleted', () =>
      spec
        .given([created, sealed, { type: 'BucketDeleted', data: { bucket: 'photos', deletionId: 'd1', deletedAt: createdAt } }])
        .when({ ...create, owner: 'bob' })
        .then([{ ...created, data: { ...created.data, owner: 'bob' } }]));

    it.each(['ab', 'a'.repeat(64), 'Photos', 'my_bucket', '-photos', 'photos-', 'my..bucket', 'my.-bucket', '192.168.1.1', 'xn--photos', 'photos-s3alias', 'sthree-x', 'bucket--ol-s3', 'x.mrap', 'é-bucket'])(
      'refuses the name %j with InvalidBucketName',
      (bucket) => spec.given([]).when({ ...create, bucket }).thenThrows(MetadataError, hasCode('InvalidBucketName')),
    );

    it.each(['abc', 'a'.repeat(63), 'my.bucket.1', '1-2-3', '192.168.1.1.5', 'photos-s3'])('accepts the name %j', (bucket) =>
      expect(bucketNameProblem(bucket)).toBeNull(),
    );

    it('refuses an unknown storage class with InvalidStorageClass', () =>
      spec.given([]).when({ ...create, defaultStorageClass: 'GLACIER' as never }).thenThrows(MetadataError, hasCode('InvalidStorageClass')));

    it('refuses an active-passive replication without a valid home region', () =>
      spec
        .given([])
        .when({ ...create, replication: { mode: 'active-passive', homeRegion: '' } })
        .thenThrows(MetadataError, hasCode('InvalidArgument')));

    it('refuses an unknown replication mode', () =>
      spec.given([]).when({ ...create, replication: { mode: 'everywhere' } as never }).thenThrows(MetadataError, hasCode('InvalidArgument')));
  });

  describe('deleting', () => {
    it('seals the bucket first', () =>
      spec.given([created]).when({ type: 'BeginBucketDeletion', bucket: 'photos', deletionId: 'd1', startedAt: createdAt }).then([sealed]));

    it('treats a repeated seal with the same id as done', () =>
      spec.given([created, sealed]).when({ type: 'BeginBucketDeletion', bucket: 'photos', deletionId: 'd1', startedAt: createdAt }).then([]));

    it('refuses a second, different deletion with OperationAborted', () =>
      spec
        .given([created, sealed])
        .when({ type: 'BeginBucketDeletion', bucket: 'photos', deletionId: 'd2', startedAt: createdAt })
        .thenThrows(MetadataError, hasCode('OperationAborted')));

    it('deletes a sealed bucket that the projection counted empty', () =>
      spec
        .given([created, sealed])
        .when({ type: 'DeleteBucket', bucket: 'photos', deletionId: 'd1', versionCount: 0, deletedAt: createdAt })
        .then([{ type: 'BucketDeleted', data: { bucket: 'photos', deletionId: 'd1', deletedAt: createdAt } }]));

    it('refuses a bucket holding versions with BucketNotEmpty', () =>
      spec
        .given([created, sealed])
        .when({ type: 'DeleteBucket', bucket: 'photos', deletionId: 'd1', versionCount: 1, deletedAt: createdAt })
        .thenThrows(MetadataError, hasCode('BucketNotEmpty')));

    it('refuses a delete that did not seal the bucket first', () =>
      spec
        .given([created])
        .when({ type: 'DeleteBucket', bucket: 'photos', deletionId: 'd1', versionCount: 0, deletedAt: createdAt })
        .thenThrows(MetadataError, hasCode('OperationAborted')));

    it('refuses a nonsensical count', () =>
      spec
        .given([created, sealed])
        .when({ type: 'DeleteBucket', bucket: 'photos', deletionId: 'd1', versionCount: -1, deletedAt: createdAt })
        .thenThrows(MetadataError, hasCode('InvalidArgument')));

    it('cancels its own seal, and only its own', () => {
      spec
        .given([created, sealed])
        .when({ type: 'CancelBucketDeletion', bucket: 'photos', deletionId: 'd1' })
        .then([{ type: 'BucketDeletionCancelled', data: { bucket: 'photos', deletionId: 'd1' } }]);
      spec.given([created, sealed]).when({ type: 'CancelBucketDeletion', bucket: 'photos', deletionId: 'd2' }).then([]);
    });

    it('deletes nothing that does not exist: NoSuchBucket', () =>
      spec
        .given([])
        .when({ type: 'BeginBucketDeletion', bucket: 'photos', deletionId: 'd1', startedAt: createdAt })
        .thenThrows(MetadataError, hasCode('NoSuchBucket')));
  });

  describe('versioning', () => {
    const enabled = { type: 'BucketVersioningChanged', data: { bucket: 'photos', versioning: 'Enabled' } } as const;
    const suspended = { type: 'BucketVersioningChanged', data: { bucket: 'photos', versioning: 'Suspended' } } as const;

    it('goes from Unversioned to Enabled', () =>
      spec.given([created]).when({ type: 'SetBucketVersioning', bucket: 'photos', versioning: 'Enabled' }).then([enabled]));

    it('goes from Enabled to Suspended and back', () => {
      spec.given([created, enabled]).when({ type: 'SetBucketVersioning', bucket: 'photos', versioning: 'Suspended' }).then([suspended]);
      spec.given([created, enabled, suspended]).when({ type: 'SetBucketVersioning', bucket: 'photos', versioning: 'Enabled' }).then([enabled]);
    });

    it('never goes back to Unversioned', () =>
      spec
        .given([created, enabled])
        .when({ type: 'SetBucketVersioning', bucket: 'photos', versioning: 'Unversioned' })
        .thenThrows(MetadataError, hasCode('IllegalVersioningConfigurationException')));

    it('decides nothing when the status does not change', () =>
      spec.given([created, enabled]).when({ type: 'SetBucketVersioning', bucket: 'photos', versioning: 'Enabled' }).then([]));

    it('answers NoSuchBucket for a missing bucket', () =>
      spec.given([]).when({ type: 'SetBucketVersioning', bucket: 'photos', versioning: 'Enabled' }).thenThrows(MetadataError, hasCode('NoSuchBucket')));
  });

  describe('configuration', () => {
    it('changes replication, and only when it differs', () => {
      const replication = { mode: 'active-passive', homeRegion: 'us-two' } as const;
      const changed = { type: 'BucketReplicationChanged', data: { bucket: 'photos', replication } } as const;
      spec.given([created]).when({ type: 'SetBucketReplication', bucket: 'photos', replication }).then([changed]);
      spec.given([created, changed]).when({ type: 'SetBucketReplication', bucket: 'photos', replication }).then([]);
      spec
        .given([created, changed])
        .when({ type: 'SetBucketReplication', bucket: 'photos', replication: { mode: 'active-passive', homeRegion: 'eu-one' } })
        .then([{ type: 'BucketReplicationChanged', data: { bucket: 'photos', replication: { mode: 'active-passive', homeRegion: 'eu-one' } } }]);
    });

    it('keeps a read staleness bound with the home region: setting it is a change, a bound outside 1 s..1 day is refused', () => {
      const home = { type: 'BucketReplicationChanged', data: { bucket: 'photos', replication: { mode: 'active-passive', homeRegion: 'us-two' } } } as const;
      const bounded = { mode: 'active-passive', homeRegion: 'us-two', readStalenessSeconds: 5 } as const;
      spec.given([created, home]).when({ type: 'SetBucketReplication', bucket: 'photos', replication: bounded }).then([{ type: 'BucketReplicationChanged', data: { bucket: 'photos', replication: bounded } }]);
      spec.given([created, home, { ...home, data: { bucket: 'photos', replication: bounded } }]).when({ type: 'SetBucketReplication', bucket: 'photos', replication: bounded }).then([]);
      for (const readStalenessSeconds of [0, -1, 1.5, 86_401]) {
        spec
          .given([created, home])
          .when({ type: 'SetBucketReplication', bucket: 'photos', replication: { mode: 'active-passive', homeRegion: 'us-two', readStalenessSeconds } })
          .thenThrows(MetadataError, hasCode('InvalidArgument'));
      }
    });

    it('changes the default storage class and refuses unknown ones', () => {
      spec
        .given([created])
        .when({ type: 'SetBucketDefaultStorageClass', bucket: 'photos', defaultStorageClass: 'GLACIER_IR' })
        .then([{ type: 'BucketDefaultStorageClassChanged', data: { bucket: 'photos', defaultStorageClass: 'GLACIER_IR' } }]);
      spec
        .given([created])
        .when({ type: 'SetBucketDefaultStorageClass', bucket: 'photos', defaultStorageClass: 'DEEP' })
        .thenThrows(MetadataError, hasCode('InvalidStorageClass'));
    });

    it('sets and deletes tags', () => {
      const tags = [{ key: 'team', value: 'media' }];
      spec.given([created]).when({ type: 'PutBucketTags', bucket: 'photos', tags }).then([{ type: 'BucketTagsSet', data: { bucket: 'photos', tags } }]);
      spec
        .given([created, { type: 'BucketTagsSet', data: { bucket: 'photos', tags } }])
        .when({ type: 'DeleteBucketTags', bucket: 'photos' })
        .then([{ type: 'BucketTagsDeleted', data: { bucket: 'photos' } }]);
      spec.given([created]).when({ type: 'DeleteBucketTags', bucket: 'photos' }).then([]);
    });

    it.each([
      ['too many', Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' }))],
      ['a duplicate key', [{ key: 'a', value: '1' }, { key: 'a', value: '2' }]],
      ['an empty key', [{ key: '', value: '1' }]],
      ['a long value', [{ key: 'a', value: 'v'.repeat(257) }]],
      ['a reserved prefix', [{ key: 'aws:owner', value: 'x' }]],
    ])('refuses tags with %s: InvalidTag', (_, tags) =>
      spec.given([created]).when({ type: 'PutBucketTags', bucket: 'photos', tags }).thenThrows(MetadataError, hasCode('InvalidTag')),
    );

    it('changes the owner', () => {
      spec
        .given([created])
        .when({ type: 'ChangeBucketOwner', bucket: 'photos', owner: 'bob' })
        .then([{ type: 'BucketOwnerChanged', data: { bucket: 'photos', owner: 'bob' } }]);
      spec.given([created]).when({ type: 'ChangeBucketOwner', bucket: 'photos', owner: 'alice' }).then([]);
      spec.given([created]).when({ type: 'ChangeBucketOwner', bucket: 'photos', owner: ' ' }).thenThrows(MetadataError, hasCode('InvalidArgument'));
    });

    describe('bucket policy', () => {
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/public/*' }],
      });
      const set = { type: 'BucketPolicySet', data: { bucket: 'photos', policy } } as const;

      it('stores a valid policy as its text, once', () => {
        spec.given([created]).when({ type: 'PutBucketPolicy', bucket: 'photos', policy }).then([set]);
        spec.given([created, set]).when({ type: 'PutBucketPolicy', bucket: 'photos', policy }).then([]);
      });

      it('deletes it; deleting none changes nothing', () => {
        spec.given([created, set]).when({ type: 'DeleteBucketPolicy', bucket: 'photos' }).then([{ type: 'BucketPolicyDeleted', data: { bucket: 'photos' } }]);
        spec.given([created]).when({ type: 'DeleteBucketPolicy', bucket: 'photos' }).then([]);
      });

      it.each([
        ['not JSON', '{oops', "Policies must be valid JSON and the first byte must be '{'"],
        ['another bucket', policy.replace('photos', 'videos'), 'Policy has invalid resource'],
      ])('refuses %s with MalformedPolicy and S3 message', (_, text, message) =>
        spec
          .given([created])
          .when({ type: 'PutBucketPolicy', bucket: 'photos', policy: text })
          .thenThrows(MetadataError, (error) => error.code === 'MalformedPolicy' && error.message === message),
      );

      it('refuses a policy on a bucket that does not exist', () =>
        spec.given([]).when({ type: 'PutBucketPolicy', bucket: 'photos', policy }).thenThrows(MetadataError, hasCode('NoSuchBucket')));
    });

    describe('bucket CORS', () => {
      const cors = { rules: [{ allowedMethods: ['GET', 'PUT'] as const, allowedOrigins: ['https://app.example.com'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 600 }] };
      const set = { type: 'BucketCorsSet', data: { bucket: 'photos', cors } } as const;

      it('stores a valid configuration, once', () => {
        spec.given([created]).when({ type: 'PutBucketCors', bucket: 'photos', cors }).then([set]);
        spec.given([created, set]).when({ type: 'PutBucketCors', bucket: 'photos', cors }).then([]);
      });

      it('replaces it whole', () => {
        const other = { rules: [{ allowedMethods: ['GET'] as const, allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [] }] };
        spec.given([created, set]).when({ type: 'PutBucketCors', bucket: 'photos', cors: other }).then([{ type: 'BucketCorsSet', data: { bucket: 'photos', cors: other } }]);
      });

      it('deletes it; deleting none changes nothing', () => {
        spec.given([created, set]).when({ type: 'DeleteBucketCors', bucket: 'photos' }).then([{ type: 'BucketCorsDeleted', data: { bucket: 'photos' } }]);
        spec.given([created]).when({ type: 'DeleteBucketCors', bucket: 'photos' }).then([]);
      });

      it.each([
        ['no rules', { rules: [] }, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'],
        ['an unsupported method', { rules: [{ ...cors.rules[0], allowedMethods: ['PATCH'] }] }, 'InvalidRequest', 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH'],
      ])('refuses %s with S3 code and message', (_, bad, code, message) =>
        spec
          .given([created])
          .when({ type: 'PutBucketCors', bucket: 'photos', cors: bad as never })
          .thenThrows(MetadataError, (error) => error.code === code && error.message === message),
      );

      it('refuses a configuration on a bucket that does not exist', () =>
        spec.given([]).when({ type: 'PutBucketCors', bucket: 'photos', cors }).thenThrows(MetadataError, hasCode('NoSuchBucket')));
    });
  });
});
