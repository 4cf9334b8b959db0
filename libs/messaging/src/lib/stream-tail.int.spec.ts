import { randomUUID } from 'node:crypto';
import { subjectsFor, type EventEnvelope } from '@cairn/protocol';
import { eventually, natsFixture } from '../test/nats-fixture';
import { JetStreamEventStore } from './jetstream-event-store';
import { StreamTail, type TailedMessage } from './stream-tail';

function envelope(type: string): EventEnvelope {
  return { id: randomUUID(), type, schemaVersion: 1, aggregateId: 'agg', region: 'test', hlc: '0', causationId: null, correlationId: null, occurredAt: new Date(0).toISOString(), data: {} };
}

describe('StreamTail on real NATS', () => {
  let fixture: Awaited<ReturnType<typeof natsFixture>>;
  let store: JetStreamEventStore;
  let subjects: ReturnType<typeof subjectsFor>;

  beforeAll(async () => {
    fixture = await natsFixture();
    store = new JetStreamEventStore(fixture.connection, fixture.namespace);
    subjects = subjectsFor(fixture.namespace);
  });
  afterAll(() => fixture.teardown());

  it('reports new messages on the followed subjects with their stream sequence, and nothing from before it started', async () => {
    const before = await store.append(subjects.bucket('old-news'), [envelope('BucketCreated')], 0);
    const seen: TailedMessage[] = [];
    const tail = new StreamTail(fixture.connection, { stream: subjects.streamName('META'), subject: subjects.prefix('meta.bucket.>'), onMessage: (m) => seen.push(m) });
    tail.start();
    try {
      // The consumer is created asynchronously: keep writing until the tail hears one.
      let probes = 0;
      const first = await eventually(async () => {
        await store.append(subjects.bucket(`probe-${probes++}`), [envelope('BucketCreated')], 0);
        return seen[0];
      });
      const objectWrite = await store.append(subjects.object('photos', 'a'.repeat(64)), [envelope('ObjectVersionPut')], 0);
      const bucketWrite = await store.append(subjects.bucket('videos'), [envelope('BucketCreated')], 0);
      await eventually(() => seen.some((m) => m.subject === subjects.bucket('videos')));
      expect(seen.find((m) => m.subject === subjects.bucket('videos'))?.sequence).toBe(bucketWrite.lastSequence);
      expect(seen.some((m) => m.sequence === objectWrite.lastSequence)).toBe(false);
      expect(seen.some((m) => m.sequence === before.lastSequence)).toBe(false);
      expect(first.sequence).toBeGreaterThan(before.lastSequence);
    } finally {
      await tail.stop();
    }
  });
});
