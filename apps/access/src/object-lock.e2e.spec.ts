import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { eventually } from '@cairn/testing';
import { startS3Stack, type S3Stack, s3Error } from './testing/s3-stack.e2e-helper';


/** A retention this many milliseconds from now (S3 allows a RetainUntilDate of any future instant on PutObjectRetention). */
const inMs = (ms: number) => new Date(Date.now() + ms);

/** Object Lock (WORM) end to end (docs/object-lock.md): the AWS SDK against a region of real processes. */
describe('Object Lock (e2e)', () => {
  let stack: S3Stack;
  let s3: S3Client;
  const vault = 'lock-e2e';
  const defaults = 'lock-default-e2e';

  beforeAll(async () => {
    stack = await startS3Stack();
    s3 = stack.client();
    await s3.send(new CreateBucketCommand({ Bucket: vault, ObjectLockEnabledForBucket: true }));
    await s3.send(new CreateBucketCommand({ Bucket: defaults, ObjectLockEnabledForBucket: true }));
  }, 120_000);
  afterAll(() => stack?.stop());

  it('a bucket made with Object Lock is versioned for good', async () => {
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: vault }))).Status).toBe('Enabled');
    expect(await s3Error(s3.send(new PutBucketVersioningCommand({ Bucket: vault, VersioningConfiguration: { Status: 'Suspended' } })))).toEqual({ name: 'InvalidBucketState', status: 409 });
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: vault }))).ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
  });

  it('a bucket without Object Lock refuses retention', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lock-none-e2e' }));
    await s3.send(new PutObjectCommand({ Bucket: 'lock-none-e2e', Key: 'k', Body: 'x' }));
    expect((await s3Error(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-none-e2e' })))).name).toBe('ObjectLockConfigurationNotFoundError');
    expect(
      (await s3Error(s3.send(new PutObjectRetentionCommand({ Bucket: 'lock-none-e2e', Key: 'k', Retention: { Mode: 'GOVERNANCE', RetainUntilDate: inMs(60_000) } })))).status,
    ).toBe(400);
  });

  it('COMPLIANCE: delete of the version refused (bypass or not) until the retention ends, never shortened; then allowed', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: vault, Key: 'ledger', Body: 'row' }));
    const versionId = put.VersionId as string;
    const until = inMs(5_000);
    await s3.send(new PutObjectRetentionCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until } }));
    const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId }));
    expect(retention.Retention?.Mode).toBe('COMPLIANCE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId }));
    expect(head.ObjectLockMode).toBe('COMPLIANCE');

    expect(await s3Error(s3.send(new DeleteObjectCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await s3Error(s3.send(new DeleteObjectCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId, BypassGovernanceRetention: true })))).status).toBe(403);
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: vault, Delete: { Objects: [{ Key: 'ledger', VersionId: versionId }] } }));
    expect(batch.Errors?.[0]?.Code).toBe('AccessDenied');
    expect(
      (await s3Error(s3.send(new PutObjectRetentionCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: inMs(1_000) }, BypassGovernanceRetention: true })))).status,
    ).toBe(403);
    // A delete without a version id only puts a marker on top: the locked version stays.
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: vault, Key: 'ledger' }));
    expect(marker.DeleteMarker).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId }))).ContentLength).toBe(3);

    await eventually(async () => (Date.now() > until.getTime() + 500 ? true : undefined), 15_000, 200);
    await s3.send(new DeleteObjectCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId }));
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket: vault, Key: 'ledger', VersionId: versionId })))).status).toBe(404);
  }, 30_000);

  it('GOVERNANCE from the bucket default: refused without bypass, allowed to the owner with x-amz-bypass-governance-retention', async () => {
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: defaults,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      }),
    );
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: defaults }));
    expect(config.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 1 });
    const put = await s3.send(new PutObjectCommand({ Bucket: defaults, Key: 'report', Body: 'q3' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: defaults, Key: 'report' }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    expect((await s3Error(s3.send(new DeleteObjectCommand({ Bucket: defaults, Key: 'report', VersionId: put.VersionId })))).status).toBe(403);
    // Removing a GOVERNANCE retention needs the bypass too.
    expect((await s3Error(s3.send(new PutObjectRetentionCommand({ Bucket: defaults, Key: 'report', VersionId: put.VersionId, Retention: {} })))).status).toBe(403);
    await s3.send(new DeleteObjectCommand({ Bucket: defaults, Key: 'report', VersionId: put.VersionId, BypassGovernanceRetention: true }));
    // A bypass from someone without s3:BypassGovernanceRetention (and no access at all) is refused.
    const other = stack.client(await stack.createAccessKey('lock-mallory'));
    const second = await s3.send(new PutObjectCommand({ Bucket: defaults, Key: 'report', Body: 'q4' }));
    expect((await s3Error(other.send(new DeleteObjectCommand({ Bucket: defaults, Key: 'report', VersionId: second.VersionId, BypassGovernanceRetention: true })))).status).toBe(403);
  });

  it('legal hold: set at write or later, refuses removal until it is taken off', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: vault, Key: 'evidence', Body: 'exhibit A', ObjectLockLegalHoldStatus: 'ON' }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: vault, Key: 'evidence', VersionId: put.VersionId }))).LegalHold?.Status).toBe('ON');
    expect((await s3Error(s3.send(new DeleteObjectCommand({ Bucket: vault, Key: 'evidence', VersionId: put.VersionId, BypassGovernanceRetention: true })))).status).toBe(403);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: vault, Key: 'evidence', VersionId: put.VersionId, LegalHold: { Status: 'OFF' } }));
    await s3.send(new DeleteObjectCommand({ Bucket: vault, Key: 'evidence', VersionId: put.VersionId }));
  });

  it('x-amz-object-lock-* on PUT: both mode and date, in the future', async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: vault, Key: 'sealed', Body: 'now', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inMs(3_600_000) }),
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket: vault, Key: 'sealed', VersionId: put.VersionId }))).ObjectLockMode).toBe('GOVERNANCE');
    expect((await s3Error(s3.send(new PutObjectCommand({ Bucket: vault, Key: 'half', Body: 'x', ObjectLockMode: 'GOVERNANCE' })))).status).toBe(400);
    expect((await s3Error(s3.send(new PutObjectCommand({ Bucket: vault, Key: 'past', Body: 'x', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: inMs(-60_000) })))).status).toBe(400);
  });
});
