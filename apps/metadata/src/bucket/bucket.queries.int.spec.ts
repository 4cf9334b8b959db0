import type { DataSource } from 'typeorm';
import { MetadataProjector } from '../projections/metadata-projector';
import { MetadataWorld } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { BucketQueries } from './bucket.queries';

const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/*' }] });

const CORS = { rules: [{ id: 'web', allowedMethods: ['GET', 'PUT'] as const, allowedOrigins: ['https://app.example.com'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 60 }] };

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
    await world.createBucket('pol');
    await world.bucket({ type: 'PutBucketPolicy', bucket: 'pol', policy: POLICY.replace('GetObject', 'PutObject') });
    await world.bucket({ type: 'PutBucketPolicy', bucket: 'pol', policy: POLICY });
    await world.createBucket('unpol');
    await world.bucket({ type: 'PutBucketPolicy', bucket: 'unpol', policy: POLICY.replace('pol/', 'unpol/') });
    await world.bucket({ type: 'DeleteBucketPolicy', bucket: 'unpol' });
    await world.bucket({ type: 'PutBucketCors', bucket: 'pol', cors: CORS });
    await new MetadataProjector(db.dataSource).project(world.store.all());
  });
  afterAll(() => db.drop());

  it('gets and lists buckets', async () => {
    expect(await queries.getBucket('ver')).toMatchObject({ name: 'ver', owner: 'alice', versioning: 'Enabled', replication: { mode: 'local' }, deleting: false });
    expect(await queries.getBucket('nope')).toBeNull();
    expect((await queries.listBuckets()).map((b) => b.name)).toEqual(['odd', 'pol', 'unpol', 'ver']);
    expect(await queries.listBuckets('bob')).toEqual([]);
  });

  it('projects the bucket policy into getBucket, not into listings', async () => {
    expect((await queries.getBucket('pol'))?.policy).toBe(POLICY);
    expect(await queries.getBucket('unpol')).not.toHaveProperty('policy');
    expect(await queries.getBucket('odd')).not.toHaveProperty('policy');
    expect((await queries.listBuckets()).some((b) => b.policy !== undefined)).toBe(false);
  });

  it('projects the CORS configuration into getBucket, not into listings', async () => {
    expect((await queries.getBucket('pol'))?.cors).toEqual(CORS);
    expect(await queries.getBucket('unpol')).not.toHaveProperty('cors');
    expect((await queries.listBuckets()).some((b) => b.cors !== undefined)).toBe(false);
  });

  it('counts versions and delete markers up to a cap', async () => {
    expect(await queries.countBucketVersions('ver', 1000)).toBe(8);
    expect(await queries.countBucketVersions('ver', 1)).toBe(1);
  });
});
