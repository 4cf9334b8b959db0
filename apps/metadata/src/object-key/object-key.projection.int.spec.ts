import fc from 'fast-check';
import { foldEvents } from '@cairn/eventing';
import { cannedAcl, canonicalIdOf, type ObjectKeyEvent, type VersioningStatus } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { objectKeyDecider } from '../domain/object-key/object-key.decider';
import { keyIdOf } from '@cairn/hashing';
import { MetadataWorld } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { MetadataProjector } from '../projections/metadata-projector';
import { ObjectKeyQueries } from './object-key.queries';

const RUNS = 25;
const KEYS = ['k', 'dir/k', '😀'] as const;

type Step =
  | { readonly kind: 'put'; readonly key: number; readonly body: string }
  | { readonly kind: 'delete'; readonly key: number }
  | { readonly kind: 'deleteVersion'; readonly key: number; readonly pick: number }
  | { readonly kind: 'versioning'; readonly status: 'Enabled' | 'Suspended' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(KEYS.length - 1), body: fc.string({ maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(KEYS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deleteVersion' as const), key: fc.nat(KEYS.length - 1), pick: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('versioning' as const), status: fc.constantFrom('Enabled' as const, 'Suspended' as const) }) },
);

/**
 * Random histories of puts, deletes, version deletes and versioning changes: after projecting, the
 * read model's versions of each key (order, current flag, delete markers) are exactly the
 * decider's state folded from the same events.
 */
describe('object key projection agrees with the decider', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await openTestSchema('keyprop');
  });
  afterAll(() => db.drop());

  it('for random histories', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 10, maxLength: 40 }), async (steps) => {
        const bucket = `prop-${++run}`;
        const world = new MetadataWorld();
        await world.createBucket(bucket);
        let versioning: VersioningStatus = 'Unversioned';
        const eventsOf = async (key: string) =>
          (await world.store.read(`meta.object.${bucket.replaceAll('.', '_')}.${keyIdOf(key)}`)).events.map(
            (e) => ({ type: e.envelope.type, data: e.envelope.data }) as ObjectKeyEvent,
          );
        for (const step of steps) {
          if (step.kind === 'versioning') {
            await world.bucket({ type: 'SetBucketVersioning', bucket, versioning: step.status });
            versioning = step.status;
          } else if (step.kind === 'put') {
            await world.put(bucket, KEYS[step.key], step.body, versioning);
          } else if (step.kind === 'delete') {
            await world.deleteObject(bucket, KEYS[step.key], versioning);
          } else {
            const key = KEYS[step.key];
            const state = foldEvents(objectKeyDecider, await eventsOf(key));
            const victim = state.versions[step.pick % Math.max(state.versions.length, 1)];
            if (victim) await world.object({ type: 'DeleteObjectVersion', bucket, key, keyId: keyIdOf(key), versionId: victim.versionId });
          }
        }
        await new MetadataProjector(db.dataSource).project(world.store.all());
        // Every run's store numbers its stream from 1 again, so the next run starts from checkpoint 0.
        await db.dataSource.query(`DELETE FROM "${db.schema}"."projection_checkpoints"`);

        const listed = await new ObjectKeyQueries(db.dataSource).listObjectVersions(bucket, {});
        for (const key of KEYS) {
          const expected = foldEvents(objectKeyDecider, await eventsOf(key)).versions.map((v, i) => [v.versionId, i === 0, v.isDeleteMarker]);
          const actual = listed.versions.filter((v) => v.key === key).map((v) => [v.versionId, v.isLatest, v.isDeleteMarker]);
          expect(actual).toEqual(expected);
        }
        const current = await new ObjectKeyQueries(db.dataSource).listObjectsV2(bucket, {});
        const live = [];
        for (const key of KEYS) {
          const top = foldEvents(objectKeyDecider, await eventsOf(key)).versions[0];
          if (top && !top.isDeleteMarker) live.push(key);
        }
        expect(current.contents.map((c) => c.key).sort()).toEqual(live.sort());
      }),
      { numRuns: RUNS },
    );
  });
});

/** object_versions.acl: null for the default, the ACL as put, replaced by ObjectAclSet (Postgres, real). */
describe('object key projection: object ACLs', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await openTestSchema('keyacl');
  });
  afterAll(() => db.drop());

  it('projects each version\'s ACL', async () => {
    const world = new MetadataWorld();
    const bucket = 'acl-projection';
    await world.createBucket(bucket, 'Enabled');
    await world.bucket({ type: 'PutBucketOwnershipControls', bucket, objectOwnership: 'ObjectWriter' });
    const v1 = await world.put(bucket, 'k', 'one', 'Enabled');
    const v2 = await world.put(bucket, 'k', 'two', 'Enabled');
    const rules = { aclsEnabled: true, blockPublicAcls: false, bucketOwnerId: canonicalIdOf('alice') };
    const alicesPublic = cannedAcl('public-read', { ownerId: canonicalIdOf('alice') });
    await world.object({ type: 'PutObjectAcl', bucket, key: 'k', keyId: keyIdOf('k'), versionId: v2, acl: alicesPublic, aclRules: rules });
    await new MetadataProjector(db.dataSource).project(world.store.all());
    const rows: { version_id: string; acl: unknown }[] = await db.dataSource.query(`SELECT version_id, acl FROM "${db.schema}"."object_versions" WHERE bucket = $1 ORDER BY version_id`, [bucket]);
    expect(rows).toEqual([
      { version_id: v1, acl: null },
      { version_id: v2, acl: alicesPublic },
    ]);
  });
});
