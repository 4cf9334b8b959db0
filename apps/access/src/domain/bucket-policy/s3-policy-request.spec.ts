import { S3_OPERATIONS } from '../../s3/routing/s3-operations';
import { S3_POLICY_ACTIONS } from '@cairn/protocol';
import { copySourceTargetOf, policyContextOf, policyTargetOf } from './s3-policy-request';

describe('S3 operations as IAM actions', () => {
  it.each([
    ['GetObject', 'k', undefined, 's3:GetObject', 'arn:aws:s3:::b/k'],
    ['GetObject', 'k', 'v1', 's3:GetObjectVersion', 'arn:aws:s3:::b/k'],
    ['HeadObject', 'a/b', undefined, 's3:GetObject', 'arn:aws:s3:::b/a/b'],
    ['PutObject', 'k', undefined, 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['CompleteMultipartUpload', 'k', undefined, 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['DeleteObject', 'k', 'v1', 's3:DeleteObjectVersion', 'arn:aws:s3:::b/k'],
    ['ListObjectsV2', undefined, undefined, 's3:ListBucket', 'arn:aws:s3:::b'],
    ['ListObjectVersions', undefined, undefined, 's3:ListBucketVersions', 'arn:aws:s3:::b'],
    ['HeadBucket', undefined, undefined, 's3:ListBucket', 'arn:aws:s3:::b'],
    ['DeleteBucketTagging', undefined, undefined, 's3:PutBucketTagging', 'arn:aws:s3:::b'],
    ['GetBucketPolicyStatus', undefined, undefined, 's3:GetBucketPolicyStatus', 'arn:aws:s3:::b'],
  ] as const)('%s %s %s → %s on %s', (operation, key, versionId, action, resource) => {
    expect(policyTargetOf({ operation, bucket: 'b', key, versionId })).toEqual({ action, resource });
  });

  it('maps every operation but DeleteObjects (decided per key) to an action S3 knows', () => {
    for (const operation of S3_OPERATIONS) {
      const key = ['GetObject', 'HeadObject', 'PutObject', 'CopyObject', 'DeleteObject', 'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts', 'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging', 'GetObjectAcl', 'PutObjectAcl'].includes(operation) ? 'k' : undefined;
      const target = policyTargetOf({ operation, bucket: 'b', key });
      if (operation === 'DeleteObjects' || operation === 'PreflightCors') expect(target).toBeUndefined();
      else expect(S3_POLICY_ACTIONS.has(target!.action.toLowerCase())).toBe(true);
    }
  });

  it('authorizes a copy source as a read of the source object', () => {
    expect(copySourceTargetOf({ bucket: 'src', key: 'x' })).toEqual({ action: 's3:GetObject', resource: 'arn:aws:s3:::src/x' });
    expect(copySourceTargetOf({ bucket: 'src', key: 'x', versionId: 'v' })).toEqual({ action: 's3:GetObjectVersion', resource: 'arn:aws:s3:::src/x' });
  });
});

describe('the request context', () => {
  const base = { secureTransport: false, nowMs: Date.UTC(2026, 11, 2, 8, 0, 0), headers: {}, query: {} };

  it('fills the global keys, and the principal keys only for signed requests', () => {
    const anonymous = policyContextOf({ ...base, operation: 'GetObject', sourceIp: '192.0.2.7', headers: { referer: 'https://x/', 'user-agent': 'curl' } });
    expect(anonymous).toEqual({
      'aws:SecureTransport': 'false',
      'aws:CurrentTime': '2026-12-02T08:00:00.000Z',
      'aws:EpochTime': String(Date.UTC(2026, 11, 2, 8, 0, 0) / 1000),
      'aws:PrincipalType': 'Anonymous',
      'aws:SourceIp': '192.0.2.7',
      'aws:Referer': 'https://x/',
      'aws:UserAgent': 'curl',
    });
    const signed = policyContextOf({ ...base, secureTransport: true, operation: 'PutObject', auth: 'presigned', account: 'alice', accessKeyId: 'AK', headers: { 'x-amz-acl': 'private' } });
    expect(signed).toMatchObject({
      'aws:SecureTransport': 'true',
      'aws:PrincipalType': 'Account',
      'aws:username': 'alice',
      'aws:PrincipalAccount': 'alice',
      'aws:userid': 'AK',
      's3:authType': 'REST-QUERY-STRING',
      's3:x-amz-acl': 'private',
    });
  });

  it('gives listings s3:prefix, s3:delimiter and s3:max-keys when the request names them', () => {
    expect(policyContextOf({ ...base, operation: 'ListObjectsV2', query: { prefix: 'home/', delimiter: '/', 'max-keys': '10' } })).toMatchObject({
      's3:prefix': 'home/',
      's3:delimiter': '/',
      's3:max-keys': '10',
    });
    expect(policyContextOf({ ...base, operation: 'ListObjectsV2', query: {} })).not.toHaveProperty('s3:prefix');
    expect(policyContextOf({ ...base, operation: 'GetObject', query: { prefix: 'x' } })).not.toHaveProperty('s3:prefix');
  });
});
