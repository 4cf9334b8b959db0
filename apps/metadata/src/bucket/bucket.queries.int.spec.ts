import type { DataSource } from 'typeorm';
import { MetadataProjector } from '../projections/metadata-projector';
import { MetadataWorld } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { BucketQueries } from './bucket.queries';

describe('BucketQueries (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: BucketQueries;
  const world = new MetadataWorld();

  beforeAll(async () => {
    db = await openTestSchema('buckets');
    queries = new BucketQueries(db.dataSource);
    await world.createBucket('odd');
    await world.put('odd', 'a', 'body of a');
    await world.createBucket('ver', 'Enabled');
    for (const [key, count] of [['k1', 3], ['d/x', 2], ['k2', 1]] as const) {
      for (let i = 0; i < count; i++) await world.put('ver', key, `${key} #${i}`, 'Enabled');
    }
    await world.deleteObject('ver', 'k1', 'Enabled');
    await world.deleteObject('ver', 'gone', 'Enabled');
    await new MetadataProjector(db.dataSource).project(world.store.all());
  });
  afterAll(() => db.drop());

  it('gets and lists buckets', async () => {
    expect(await queries.getBucket('ver')).toMatchObject({ name: 'ver', owner: 'alice', versioning: 'Enabled', replication: { mode: 'local' }, deleting: false });
    expect(await queries.getBucket('nope')).toBeNull();
    expect((await queries.listBuckets()).map((b) => b.name)).toEqual(['odd', 'ver']);
    expect(await queries.listBuckets('bob')).toEqual([]);
  });

  it('counts versions and delete markers up to a cap', async () => {
    expect(await queries.countBucketVersions('ver', 1000)).toBe(8);
    expect(await queries.countBucketVersions('ver', 1)).toBe(1);
  });
});
