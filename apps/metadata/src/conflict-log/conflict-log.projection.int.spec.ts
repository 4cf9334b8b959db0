import { keyIdOf } from '@cairn/hashing';
import { MetadataEventSchemaVersions, subjectsFor, type ConflictResolved, type EventEnvelope } from '@cairn/protocol';
import { tableIn } from '../adapters/metadata-schema';
import { MetadataProjector } from '../projections/metadata-projector';
import { MetadataWorld } from '../testing/metadata-world';
import { openTestSchema, snapshotReadModel } from '../testing/test-database';

/**
 * The conflict log part of the projection against Postgres: a history with conflicts recorded
 * twice, puts around them and a bucket deleted and made again, projected in one batch, one event
 * at a time, and twice over, yields the same rows every time.
 */
describe('ConflictLogProjection (Postgres)', () => {
  async function appendConflict(w: MetadataWorld, bucket: string, key: string, conflictId: string, resolvedAt: string, eventId: string): Promise<void> {
    const keyId = keyIdOf(key);
    const subject = subjectsFor('').object(bucket, keyId);
    const data: ConflictResolved['data'] = {
      bucket,
      key,
      keyId,
      incarnation: await w.incarnationOf(bucket),
      conflictId,
      winner: { versionId: `w-${conflictId}`, region: 'eu-two', hlc: 'hlc-w', kind: 'version' },
      loser: { versionId: `l-${conflictId}`, region: 'eu-one', hlc: 'hlc-l', kind: 'delete-marker' },
      loserVersionId: `l-${conflictId}`,
      resolvedAt,
    };
    const envelope: EventEnvelope = {
      id: eventId,
      type: 'ConflictResolved',
      schemaVersion: MetadataEventSchemaVersions.ConflictResolved,
      aggregateId: `${bucket}/${keyId}`,
      region: 'eu-one',
      hlc: `hlc-${eventId}`,
      causationId: null,
      correlationId: null,
      occurredAt: resolvedAt,
      data,
    };
    const { lastSequence } = await w.store.read(subject);
    await w.store.append(subject, [envelope], lastSequence);
  }

  async function history(): Promise<MetadataWorld> {
    const w = new MetadataWorld();
    await w.createBucket('shared', 'Enabled');
    await w.createBucket('gone');
    await w.put('shared', 'a.txt', 'one', 'Enabled');
    await appendConflict(w, 'shared', 'a.txt', 'k1', '2026-01-01T00:01:00.000Z', 'e1');
    await w.put('shared', 'b.txt', 'two', 'Enabled');
    await appendConflict(w, 'shared', 'b.txt', 'k2', '2026-01-01T00:00:30.000Z', 'e2');
    // k1 again, as the other region recorded it: changes nothing.
    await appendConflict(w, 'shared', 'a.txt', 'k1', '2026-01-01T00:05:00.000Z', 'e3');
    await appendConflict(w, 'gone', 'x', 'k1', '2026-01-01T00:02:00.000Z', 'e4');
    await w.bucket({ type: 'BeginBucketDeletion', bucket: 'gone', deletionId: 'd1', startedAt: w.at() });
    await w.bucket({ type: 'DeleteBucket', bucket: 'gone', deletionId: 'd1', versionCount: 0, deletedAt: w.at() });
    await w.createBucket('gone');
    await appendConflict(w, 'gone', 'y', 'k3', '2026-01-01T00:03:00.000Z', 'e5');
    await w.put('shared', 'a.txt', 'three', 'Enabled');
    return w;
  }

  it("keeps the first record of each conflict, drops a deleted bucket's, and rebuilds to the same rows however the events are batched", async () => {
    const w = await history();
    const events = w.store.all();
    const batched = await openTestSchema('conflicts-batched');
    const single = await openTestSchema('conflicts-single');
    try {
      await new MetadataProjector(batched.dataSource).project(events);
      const rows = await batched.dataSource.query(`SELECT bucket, conflict_id, key, winner, loser, loser_version_id, resolved_at FROM ${tableIn(batched.schema)('conflict_log')} ORDER BY bucket, conflict_id`);
      expect(rows).toEqual([
        {
          bucket: 'gone',
          conflict_id: 'k3',
          key: 'y',
          winner: { versionId: 'w-k3', region: 'eu-two', hlc: 'hlc-w', kind: 'version' },
          loser: { versionId: 'l-k3', region: 'eu-one', hlc: 'hlc-l', kind: 'delete-marker' },
          loser_version_id: 'l-k3',
          resolved_at: new Date('2026-01-01T00:03:00.000Z'),
        },
        expect.objectContaining({ bucket: 'shared', conflict_id: 'k1', key: 'a.txt', resolved_at: new Date('2026-01-01T00:01:00.000Z') }),
        expect.objectContaining({ bucket: 'shared', conflict_id: 'k2', key: 'b.txt' }),
      ]);

      const projector = new MetadataProjector(single.dataSource);
      for (const event of events) await projector.project([event]);
      const once = await snapshotReadModel(single.dataSource, single.schema);
      expect(once).toEqual(await snapshotReadModel(batched.dataSource, batched.schema));
      // Delivered again (a redelivery overlapping what was committed): nothing changes.
      await projector.project(events.slice(3));
      expect(await snapshotReadModel(single.dataSource, single.schema)).toEqual(once);
    } finally {
      await batched.drop();
      await single.drop();
    }
  });
});
