import type { DataSource } from 'typeorm';
import { MetadataError } from '../domain/shared/metadata.errors';
import { MetadataProjector } from '../projections/metadata-projector';
import { MetadataWorld } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { BucketQueries } from '../bucket/bucket.queries';
import { LifecycleVersionQueries } from './lifecycle-versions.queries';

const LIFECYCLE = { rules: [{ id: 'tmp', status: 'Enabled' as const, filter: { prefix: 'tmp/' }, expiration: { days: 3 }, transitions: [], noncurrentVersionTransitions: [] }] };

describe('lifecycle versions query and the lifecycle column (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: LifecycleVersionQueries;
  const world = new MetadataWorld();
  const keys = ['a', 'b', 'c', 'd', 'e'];

  beforeAll(async () => {
    db = await openTestSchema('lcversions');
    queries = new LifecycleVersionQueries(db.dataSource);
    await world.createBucket('ver', 'Enabled');
    for (const [i, key] of keys.entries()) for (let n = 0; n <= i; n++) await world.put('ver', key, `${key} #${n}`, 'Enabled');
    await world.deleteObject('ver', 'c', 'Enabled');
    await world.bucket({ type: 'PutBucketLifecycle', bucket: 'ver', lifecycle: LIFECYCLE });
    await world.createBucket('gone');
    await world.bucket({ type: 'PutBucketLifecycle', bucket: 'gone', lifecycle: LIFECYCLE });
    await world.bucket({ type: 'DeleteBucketLifecycle', bucket: 'gone' });
    await new MetadataProjector(db.dataSource).project(world.store.all());
  });
  afterAll(() => db.drop());

  it('projects the configuration into getBucket, not listings, and removes it again', async () => {
    const buckets = new BucketQueries(db.dataSource);
    expect((await buckets.getBucket('ver'))?.lifecycle).toEqual(LIFECYCLE);
    expect(await buckets.getBucket('gone')).not.toHaveProperty('lifecycle');
    expect((await buckets.listBuckets()).some((b) => b.lifecycle !== undefined)).toBe(false);
  });

  it('pages whole keys with every version newest first', async () => {
    const seen: { key: string; versions: number; latestFirst: boolean }[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await queries.listLifecycleVersions('ver', after, 2, 'metadata');
      pages++;
      for (const k of page.keys) {
        const times = k.versions.map((v) => v.lastModified);
        seen.push({ key: k.key, versions: k.versions.length, latestFirst: k.versions[0].isLatest && [...times].sort().reverse().join() === times.join() });
        expect(k.versions.every((v) => v.hlc.length > 0)).toBe(true);
      }
      after = page.nextAfterKeyId;
    } while (after !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((s) => s.key).sort()).toEqual(keys);
    expect(Object.fromEntries(seen.map((s) => [s.key, s.versions]))).toEqual({ a: 1, b: 2, c: 4, d: 4, e: 5 });
    expect(seen.every((s) => s.latestFirst)).toBe(true);
  });

  it('answers NoSuchBucket for a bucket that is not there', async () => {
    await expect(queries.listLifecycleVersions('nope', null, 10, 'metadata')).rejects.toBeInstanceOf(MetadataError);
  });
});
