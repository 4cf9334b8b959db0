import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  type LifecycleRule,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { METADATA_SERVICE, MetadataRpc, type HeadObjectReply } from '@cairn/protocol';
import { eventually } from '@cairn/testing';
import type { LifecycleReport } from './lifecycle/lifecycle-pass';
import { TestRegion } from './testing/region.e2e-helper';

const DAY_MS = 86_400_000;
/** Small enough to live inline in metadata. */
const BODY = Buffer.from('lifecycle test body');
/** Three nodes: erasure-coded classes stripe 2+1 over them. */
const NODES = 3;
/** Keys expired by the pass that is killed halfway. */
const KILL_KEYS = 120;
/** Slow enough that the kill lands mid-pass. */
const KILL_ACTIONS_PER_SECOND = 10;

/**
 * Lifecycle against a whole region (metadata, lock-manager, three storage nodes, the S3 gateway and
 * scheduler processes): configurations through the S3 API, then passes run through the scheduler's
 * admin API as of a moment the test picks (days after the objects were written), and a pass
 * killed with SIGKILL that the next scheduler finishes.
 */
describe('lifecycle: configuration over S3, passes as of a chosen moment', () => {
  const region = new TestRegion({ CAIRN_LIFECYCLE_INTERVAL_MS: String(DAY_MS), CAIRN_LIFECYCLE_ACTIONS_PER_SECOND: '1000' });
  const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
  const run = async (body: Record<string, unknown>, instance = 'scheduler-1') => {
    const res = await region.admin<LifecycleReport>('POST', '/admin/lifecycle/run', { wait: true, ...body }, instance);
    expect(res.status).toBe(200);
    return res.body;
  };
  const putLifecycle = (bucket: string, rules: LifecycleRule[]) => region.s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
  const versionsOf = async (bucket: string) => {
    const out = await region.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    return [...(out.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, marker: false, latest: v.IsLatest === true })), ...(out.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, marker: true, latest: m.IsLatest === true }))];
  };

  beforeAll(async () => {
    await region.start(NODES);
    await region.startScheduler('scheduler-1');
  }, 120_000);

  afterAll(() => region.stop(), 60_000);

  it('stores, answers and deletes a configuration as S3 does, refusing invalid ones with S3 errors', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'conf' }));
    await expect(region.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'conf' }))).rejects.toMatchObject({ name: 'NoSuchLifecycleConfiguration', $metadata: { httpStatusCode: 404 } });
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 }, NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 } },
      { ID: 'tagged', Status: 'Disabled', Filter: { And: { Prefix: 'a/', Tags: [{ Key: 'tier', Value: 'tmp' }], ObjectSizeGreaterThan: 100 } }, Expiration: { Date: new Date('2030-01-01T00:00:00Z') } },
      { ID: 'uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ];
    await putLifecycle('conf', rules);
    const got = await region.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'conf' }));
    expect(got.Rules?.map((r) => r.ID)).toEqual(['logs', 'tagged', 'uploads']);
    expect(got.Rules?.[0]).toMatchObject({ Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 }, NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 2 } });
    expect(got.Rules?.[1].Filter?.And).toMatchObject({ Prefix: 'a/', Tags: [{ Key: 'tier', Value: 'tmp' }], ObjectSizeGreaterThan: 100 });
    expect(got.Rules?.[1].Expiration?.Date?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(got.Rules?.[2]).toMatchObject({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 }, Expiration: { ExpiredObjectDeleteMarker: true } });

    await expect(putLifecycle('conf', [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 0 } }])).rejects.toMatchObject({ name: 'InvalidArgument', $metadata: { httpStatusCode: 400 } });
    await expect(putLifecycle('conf', [{ ID: 'x', Status: 'Enabled', Filter: {} }])).rejects.toMatchObject({ name: 'InvalidRequest' });
    await expect(putLifecycle('conf', [{ ID: 'x', Status: 'Enabled', Filter: { Tag: { Key: 'k', Value: 'v' } }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }])).rejects.toMatchObject({ name: 'InvalidRequest' });
    await expect(putLifecycle('conf', [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2030-01-01T10:00:00Z') } }])).rejects.toMatchObject({ name: 'InvalidArgument' });
    // The refused puts left the stored configuration alone.
    expect((await region.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'conf' }))).Rules).toHaveLength(3);

    await region.s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'conf' }));
    await expect(region.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'conf' }))).rejects.toMatchObject({ name: 'NoSuchLifecycleConfiguration' });
  }, 60_000);

  it('expires current objects by prefix once their days have passed (a dry run first lists them and touches nothing)', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'expiry' }));
    for (const key of ['tmp/a', 'tmp/b', 'keep/c']) await region.put('expiry', key, BODY);
    await putLifecycle('expiry', [{ ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 2 } }]);

    const early = await run({ bucket: 'expiry', now: inDays(1) });
    expect(early).toMatchObject({ state: 'done', counts: { keysScanned: 3, expired: 0 } });

    const preview = await run({ bucket: 'expiry', now: inDays(3), dryRun: true });
    expect(preview.counts.expired).toBe(2);
    expect(preview.planned?.map((a) => [a.kind, a.key]).sort()).toEqual([
      ['expire-current', 'tmp/a'],
      ['expire-current', 'tmp/b'],
    ]);
    const keys = async () => ((await region.s3.send(new ListObjectsV2Command({ Bucket: 'expiry' }))).Contents ?? []).map((o) => o.Key).sort();
    expect(await keys()).toEqual(['keep/c', 'tmp/a', 'tmp/b']);

    const pass = await run({ bucket: 'expiry', now: inDays(3) });
    expect(pass).toMatchObject({ state: 'done', counts: { expired: 2, failures: 0 } });
    expect(await keys()).toEqual(['keep/c']);
    // Run again: nothing left to do.
    expect((await run({ bucket: 'expiry', now: inDays(3) })).counts.expired).toBe(0);
  }, 60_000);

  it('in a versioned bucket: expiry puts a delete marker, noncurrent versions go by days and count, a sole delete marker is removed', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'vers' }));
    await region.s3.send(new PutBucketVersioningCommand({ Bucket: 'vers', VersioningConfiguration: { Status: 'Enabled' } }));
    for (let i = 0; i < 4; i++) await region.put('vers', 'doc', BODY);
    await region.put('vers', 'old/x', BODY);
    // A delete marker with nothing under it.
    await region.s3.send(new DeleteObjectCommand({ Bucket: 'vers', Key: 'gone' }));
    await putLifecycle('vers', [
      { ID: 'history', Status: 'Enabled', Filter: { Prefix: 'doc' }, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
      { ID: 'old', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 1 } },
      { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'gone' }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    const before = await versionsOf('vers');
    const pass = await run({ bucket: 'vers', now: inDays(2) });
    expect(pass).toMatchObject({ state: 'done', counts: { noncurrentDeleted: 2, expired: 1, deleteMarkersRemoved: 1, failures: 0 } });
    const after = await versionsOf('vers');
    const docs = before.filter((v) => v.key === 'doc').map((v) => v.id);
    // The current version and the newest noncurrent one stay; the two older go.
    expect(after.filter((v) => v.key === 'doc').map((v) => v.id).sort()).toEqual(docs.slice(0, 2).sort());
    const old = after.filter((v) => v.key === 'old/x');
    expect(old.filter((v) => v.marker && v.latest)).toHaveLength(1);
    expect(old.filter((v) => !v.marker)).toHaveLength(1);
    expect(after.filter((v) => v.key === 'gone')).toEqual([]);
  }, 60_000);

  it('aborts multipart uploads left incomplete past their days, by prefix', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
    const stale = await region.s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'big/a' }));
    const other = await region.s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'small/b' }));
    await putLifecycle('mpu', [{ ID: 'abort', Status: 'Enabled', Filter: { Prefix: 'big/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
    expect((await run({ bucket: 'mpu', now: inDays(1) })).counts.uploadsAborted).toBe(0);
    const pass = await run({ bucket: 'mpu', now: inDays(2) });
    expect(pass).toMatchObject({ state: 'done', counts: { uploadsScanned: 2, uploadsAborted: 1 } });
    const open = await region.s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu' }));
    expect((open.Uploads ?? []).map((u) => u.UploadId)).toEqual([other.UploadId]);
    expect(stale.UploadId).not.toBe(other.UploadId);
  }, 60_000);

  it('moves objects to a colder class once due: chunks rewritten erasure-coded, the version swapped whole, the bytes the same', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'tiers' }));
    const big = randomBytes(2 * 1024 * 1024 + 123);
    await region.put('tiers', 'cold/big', big);
    await region.put('tiers', 'cold/small', BODY);
    await region.put('tiers', 'hot/big', big);
    await putLifecycle('tiers', [{ ID: 'ia', Status: 'Enabled', Filter: { Prefix: 'cold/' }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }] }]);
    const before = await region.rpc.request<HeadObjectReply>(METADATA_SERVICE, MetadataRpc.headObject, { bucket: 'tiers', key: 'cold/big' });
    expect((await run({ bucket: 'tiers', now: inDays(29) })).counts.transitioned).toBe(0);
    const pass = await run({ bucket: 'tiers', now: inDays(31) });
    expect(pass).toMatchObject({ state: 'done', counts: { transitioned: 2, transitionsUnavailable: 0, failures: 0 } });
    const head = (key: string) => region.s3.send(new HeadObjectCommand({ Bucket: 'tiers', Key: key }));
    expect((await head('cold/big')).StorageClass).toBe('STANDARD_IA');
    expect((await head('cold/small')).StorageClass).toBe('STANDARD_IA');
    expect((await head('hot/big')).StorageClass).toBeUndefined();
    const after = await region.rpc.request<HeadObjectReply>(METADATA_SERVICE, MetadataRpc.headObject, { bucket: 'tiers', key: 'cold/big' });
    // Same version, same etag, each chunk now a stripe.
    expect([after.versionId, after.etag]).toEqual([before.versionId, before.etag]);
    expect(after.chunks.map((c) => [c.offsetBytes, c.sizeBytes])).toEqual(before.chunks.map((c) => [c.offsetBytes, c.sizeBytes]));
    expect(after.chunks.every((c) => (c as { erasure?: unknown }).erasure !== undefined)).toBe(true);
    expect((await region.get('tiers', 'cold/big')).equals(big)).toBe(true);
    expect((await region.get('tiers', 'cold/small')).equals(BODY)).toBe(true);
    // Moved once: the next pass has nothing to move.
    expect((await run({ bucket: 'tiers', now: inDays(31) })).counts.transitioned).toBe(0);
  }, 90_000);

  it('a pass killed with SIGKILL halfway is finished by the next scheduler: every key expired exactly once', async () => {
    await region.s3.send(new CreateBucketCommand({ Bucket: 'killed' }));
    await region.s3.send(new PutBucketVersioningCommand({ Bucket: 'killed', VersioningConfiguration: { Status: 'Enabled' } }));
    for (let i = 0; i < KILL_KEYS; i++) await region.put('killed', `k/${String(i).padStart(4, '0')}`, BODY);
    await putLifecycle('killed', [{ ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }]);
    // A slow scheduler takes the pass; the fast one stands by.
    await region.scheduler('scheduler-1').stop();
    await region.startScheduler('slow', { CAIRN_LIFECYCLE_ACTIONS_PER_SECOND: String(KILL_ACTIONS_PER_SECOND) });
    const queued = await region.admin<LifecycleReport>('POST', '/admin/lifecycle/run', { bucket: 'killed', now: inDays(2) }, 'slow');
    const id = queued.body.id;
    await eventually(async () => ((await region.admin<LifecycleReport>('GET', `/admin/lifecycle/runs/${id}`, undefined, 'slow')).body.counts?.expired ?? 0) >= KILL_KEYS / 4, 60_000, 100);
    const child = region.scheduler('slow').child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const doneAtKill = (await versionsOf('killed')).filter((v) => v.marker).length;
    expect(doneAtKill).toBeGreaterThan(0);
    expect(doneAtKill).toBeLessThan(KILL_KEYS);

    await region.startScheduler('scheduler-2');
    const finished = await eventually(
      async () => {
        const report = (await region.admin<LifecycleReport>('GET', `/admin/lifecycle/runs/${id}`, undefined, 'scheduler-2')).body;
        return report.state === 'done' ? report : undefined;
      },
      120_000,
      500,
    );
    expect(finished.resumes).toBeGreaterThanOrEqual(1);
    expect(finished.counts.expired).toBe(KILL_KEYS);
    expect(finished.counts.failures).toBe(0);
    const versions = await versionsOf('killed');
    // Each key: its object, under exactly one delete marker — none missed, none doubled.
    const byKey = new Map<string, typeof versions>();
    for (const v of versions) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
    expect(byKey.size).toBe(KILL_KEYS);
    for (const [, vs] of byKey) {
      expect(vs.filter((v) => v.marker)).toHaveLength(1);
      expect(vs.filter((v) => v.marker && v.latest)).toHaveLength(1);
      expect(vs.filter((v) => !v.marker)).toHaveLength(1);
    }
    console.log(`lifecycle pass killed after ${doneAtKill} of ${KILL_KEYS} expiries; resumed ${finished.resumes}×, finished with ${finished.counts.expired} (${finished.counts.skippedChanged} skipped as changed)`);
  }, 240_000);
});
