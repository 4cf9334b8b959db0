import { randomUUID } from 'node:crypto';
import { ConcurrencyConflictError } from '@cairn/eventing';
import { MetadataEventSchemaVersions, subjectsFor, type EventEnvelope } from '@cairn/protocol';
import { JSONCodec } from 'nats';
import { JetStreamEventStore } from './jetstream-event-store';
import { natsFixture } from '../test/nats-fixture';
import { ensureStreams } from './stream-provisioning';

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

  describe('last-message look-ups by direct get', () => {
    const streamOf = () => store.streamFor(subject);
    const requestsTo = async (prefix: string, work: () => Promise<unknown>): Promise<string[]> => {
      const nc = await fixture.connection.connection();
      const seen: string[] = [];
      // The server is shared: other test files' look-ups pass here too. Only this namespace's streams count.
      const ours = `.${streamOf().slice(0, streamOf().lastIndexOf('_') + 1)}`;
      const sub = nc.subscribe(`${prefix}>`, { callback: (_err, m) => m.subject.includes(ours) && seen.push(m.subject) });
      await nc.flush();
      try {
        await work();
        await nc.flush();
        return seen;
      } finally {
        sub.unsubscribe();
      }
    };

    it('are what a one-replica stream is made with and read by: the stored message as is', async () => {
      const info = await (await fixture.connection.jetstreamManager()).streams.info(streamOf());
      expect(info.config).toMatchObject({ num_replicas: 1, allow_direct: true });
      const appended = await store.append(subject, [envelope('Put', { n: 0 })], 0);
      await store.lastSequence(subject); // the stream's config read (once per 10 s)
      const seen = await requestsTo('$JS.API.', async () => {
        const last = await store.lastEvent(subject);
        expect(last).toMatchObject({ sequence: appended.lastSequence, previousSequence: 0 });
        expect(last.event?.().envelope.data).toEqual({ n: 0 });
      });
      expect(seen).toEqual([`$JS.API.DIRECT.GET.${streamOf()}.${subject}`]);
      expect(await store.lastSequence(`${subject}.none`)).toBe(0);
      expect(await store.lastEvent(`${subject}.none`)).toEqual({ sequence: 0 });
    });

    it('see every append acknowledged before them, from another connection too, while appends go on', async () => {
      const other = new JetStreamEventStore(fixture.connection, fixture.namespace);
      let expected = 0;
      for (let n = 0; n < 200; n++) {
        const writer = n % 2 === 0 ? store : other;
        const reader = n % 2 === 0 ? other : store;
        expected = (await writer.append(subject, [envelope('Put', { n })], expected)).lastSequence;
        const [last, sequence] = await Promise.all([reader.lastEvent(subject), reader.lastSequence(subject)]);
        expect(last.sequence).toBe(expected);
        expect(sequence).toBe(expected);
        expect(last.event?.().envelope.data).toEqual({ n });
      }
    });

    it('give way to the message-get when the stream does not allow them', async () => {
      const jsm = await fixture.connection.jetstreamManager();
      const appended = await store.append(subject, [envelope('Put', { n: 0 })], 0);
      await store.lastSequence(subject);
      const { config } = await jsm.streams.info(streamOf());
      await jsm.streams.update(streamOf(), { ...config, allow_direct: false });
      try {
        // This store still believes direct gets are allowed: its look-up goes unanswered (nats-server
        // 2.9 keeps a silent responder), then it reads the config and takes the message-get.
        const seen = await requestsTo('$JS.API.STREAM.MSG.GET.', async () => {
          expect(await store.lastEvent(subject)).toMatchObject({ sequence: appended.lastSequence, previousSequence: 0 });
        });
        expect(seen).toEqual([`$JS.API.STREAM.MSG.GET.${streamOf()}`]);
        // A store that reads the config first never tries.
        const fresh = new JetStreamEventStore(fixture.connection, fixture.namespace);
        const freshSeen = await requestsTo('$JS.API.DIRECT.', async () => {
          expect(await fresh.lastSequence(subject)).toBe(appended.lastSequence);
          expect(await fresh.lastSequence(`${subject}.none`)).toBe(0);
        });
        expect(freshSeen).toEqual([]);
      } finally {
        // ensureStreams turns it back on for a one-replica stream.
        await ensureStreams(jsm, fixture.namespace);
        expect((await jsm.streams.info(streamOf())).config.allow_direct).toBe(true);
      }
    }, 30_000);
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
