import { randomUUID } from 'node:crypto';
import { ConcurrencyConflictError } from '@cairn/eventing';
import { MetadataEventSchemaVersions, subjectsFor, type EventEnvelope } from '@cairn/protocol';
import { JSONCodec } from 'nats';
import { JetStreamEventStore } from './jetstream-event-store';
import { natsFixture } from '../test/nats-fixture';

function envelope(type: string, data: unknown, id = randomUUID()): EventEnvelope {
  return {
    id,
    type,
    schemaVersion: 1,
    aggregateId: 'agg',
    region: 'test',
    hlc: '0',
    causationId: null,
    correlationId: null,
    occurredAt: new Date(0).toISOString(),
    data,
  };
}

describe('JetStreamEventStore on real NATS', () => {
  let fixture: Awaited<ReturnType<typeof natsFixture>>;
  let store: JetStreamEventStore;
  let subject: string;

  beforeAll(async () => {
    fixture = await natsFixture();
    store = new JetStreamEventStore(fixture.connection, fixture.namespace);
  });
  afterAll(() => fixture.teardown());
  beforeEach(() => {
    subject = subjectsFor(fixture.namespace).object('photos', randomUUID().replaceAll('-', ''));
  });

  it('lets exactly one of two appends with the same expected sequence win; the other gets a conflict', async () => {
    await store.append(subject, [envelope('Put', { n: 0 })], 0);
    const { lastSequence } = await store.read(subject);

    const results = await Promise.allSettled([
      store.append(subject, [envelope('Put', { n: 1 })], lastSequence),
      store.append(subject, [envelope('Put', { n: 2 })], lastSequence),
    ]);

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].reason).toBeInstanceOf(ConcurrencyConflictError);
    expect((await store.read(subject)).events).toHaveLength(2);
  });

  it('stores a retried append with the same message id once', async () => {
    const event = envelope('Put', { n: 1 });
    const first = await store.append(subject, [event], 0);
    const retry = await store.append(subject, [event], 0);

    expect(first.duplicate).toBe(false);
    expect(retry.duplicate).toBe(true);
    expect(retry.lastSequence).toBe(first.lastSequence);
    const read = await store.read(subject);
    expect(read.events.map((e) => e.envelope.id)).toEqual([event.id]);
  });

  it('reads an aggregate history in order, short or long, ignoring other subjects', async () => {
    const other = `${subject}x`;
    let seq = 0;
    let otherSeq = 0;
    for (let n = 0; n < 20; n++) {
      seq = (await store.append(subject, [envelope('Put', { n })], seq)).lastSequence;
      otherSeq = (await store.append(other, [envelope('Put', { n: -n })], otherSeq)).lastSequence;
    }
    const read = await store.read(subject);
    expect(read.events.map((e) => (e.envelope.data as { n: number }).n)).toEqual([...Array(20).keys()]);
    expect(read.lastSequence).toBe(seq);
  });

  it('appends the events of one decision as a chain, each guarded by the one before', async () => {
    const appended = await store.append(subject, [envelope('A', 1), envelope('B', 2), envelope('C', 3)], 0);
    const read = await store.read(subject);
    expect(read.events.map((e) => e.envelope.type)).toEqual(['A', 'B', 'C']);
    expect(read.lastSequence).toBe(appended.lastSequence);
    await expect(store.append(subject, [envelope('D', 4)], read.events[1].sequence)).rejects.toBeInstanceOf(ConcurrencyConflictError);
  });

  it("gives a subject's last event with the sequence it was appended after, in one look-up", async () => {
    expect(await store.lastEvent(subject)).toEqual({ sequence: 0 });
    const first = await store.append(subject, [envelope('Put', { n: 0 })], 0);
    const firstLast = await store.lastEvent(subject);
    expect(firstLast).toMatchObject({ sequence: first.lastSequence, previousSequence: 0 });
    expect(firstLast.event?.()).toMatchObject({ sequence: first.lastSequence, envelope: { type: 'Put', data: { n: 0 } } });
    // Another subject's message in between: the predecessor is the subject's own, not the stream's.
    await store.append(`${subject}x`, [envelope('Put', { other: true })], 0);
    const second = await store.append(subject, [envelope('Put', { n: 1 })], first.lastSequence);
    const secondLast = await store.lastEvent(subject);
    expect(secondLast).toMatchObject({ sequence: second.lastSequence, previousSequence: first.lastSequence });
    expect(secondLast.event?.().envelope.data).toEqual({ n: 1 });
    // Published with no expected sequence: what came before is not known.
    const unguarded = await store.publish(subject, envelope('Put', { n: 2 }));
    const unguardedLast = await store.lastEvent(subject);
    expect(unguardedLast.sequence).toBe(unguarded);
    expect(unguardedLast.previousSequence).toBeUndefined();
  });

  it('reads an empty history as sequence 0', async () => {
    expect(await store.read(subject)).toEqual({ events: [], lastSequence: 0 });
  });

  describe('events stored at an older schema version', () => {
    /** An ObjectVersionPut as version 1 wrote it: no content headers (nor a bucket life) when the put gave none. */
    const putV1 = (n: number) => ({
      ...envelope('ObjectVersionPut', {
        bucket: 'photos',
        key: `k${n}`,
        keyId: 'ab'.repeat(32),
        versionId: `v${n}`,
        sizeBytes: 1,
        etag: '0cc175b9c0f1b6a831c399e269772661',
        checksums: {},
        contentType: 'text/plain',
        userMetadata: {},
        chunks: [],
        storageClass: 'STANDARD',
        tags: [],
        hlc: '0',
        lastModified: new Date(0).toISOString(),
      }),
      schemaVersion: 1,
    });
    /** Published as older code did, bytes and all: the store's own append would stamp nothing older. */
    const publishRaw = async (value: unknown) => (await (await fixture.connection.jetstream()).publish(subject, JSONCodec().encode(value))).seq;

    it('reads them in their current shape, by direct get, by consumer and after a sequence', async () => {
      const currentVersion = MetadataEventSchemaVersions.ObjectVersionPut;
      expect(currentVersion).toBeGreaterThan(1);
      const first = await publishRaw(putV1(0));
      const read = await store.read(subject);
      expect(read.events[0].envelope).toMatchObject({ type: 'ObjectVersionPut', schemaVersion: currentVersion, data: { key: 'k0', contentHeaders: {} } });
      expect(read.events[0].envelope.data).not.toHaveProperty('incarnation');

      // Past the direct-get bound a read goes on with a consumer; both upcast.
      for (let n = 1; n < 12; n++) await publishRaw(putV1(n));
      const long = await store.read(subject);
      expect(long.events).toHaveLength(12);
      for (const { envelope: e } of long.events) expect(e).toMatchObject({ schemaVersion: currentVersion, data: { contentHeaders: {} } });

      const after = await store.readAfter(subject, first, long.lastSequence, 16);
      expect(after?.map((e) => e.envelope.schemaVersion)).toEqual(Array(11).fill(currentVersion));
      expect(await store.readAfter(subject, first, long.lastSequence, 4)).toBeUndefined();
    });

    it('refuses an event newer than this code, rather than misread it', async () => {
      await publishRaw({ ...putV1(0), schemaVersion: MetadataEventSchemaVersions.ObjectVersionPut + 1 });
      await expect(store.read(subject)).rejects.toThrow(/newer than this reader's/);
    });
  });
});
