import { randomBytes, randomUUID } from 'node:crypto';
import { ensureStreams, JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type EventEnvelope } from '@cairn/protocol';
import { dropNamespace, TEST_NATS_URL, testNamespace } from '@cairn/testing';
import { CachingEventStore } from './caching-event-store.adapter';

function envelope(payloadBytes: number): EventEnvelope {
  const data = { inline: randomBytes(payloadBytes).toString('base64') };
  return { id: randomUUID(), type: 'ObjectVersionPut', schemaVersion: 1, aggregateId: 'k', region: 'test', hlc: '0', causationId: null, correlationId: null, occurredAt: new Date(0).toISOString(), data };
}

describe('CachingEventStore on real JetStream', () => {
  const ns = testNamespace();
  const subjects = subjectsFor(ns);
  let nats: NatsConnectionManager;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: ns, region: 'test', serviceName: 'metadata', instance: 'cache-test' });
    await ensureStreams(await nats.jetstreamManager(), ns);
    store = new JetStreamEventStore(nats, ns);
  });
  afterAll(async () => {
    await nats.close();
    await dropNamespace(ns);
  });

  const write = async (subject: string, count: number, payloadBytes: number) => {
    for (let i = 0; i < count; i++) await store.append(subject, [envelope(payloadBytes)], i === 0 ? 0 : (await store.read(subject)).lastSequence);
  };

  it('keeps its histories within a byte budget, dropping the least recently used, and reads stay exact', async () => {
    const [a, b] = [subjects.object('photos', 'a'.repeat(64)), subjects.object('photos', 'b'.repeat(64))];
    await write(a, 3, 10_000);
    await write(b, 3, 10_000);
    const cache = new CachingEventStore(store, nats, { bytesMax: 60_000, historyBytesMax: 1_000_000 });

    expect((await cache.read(a)).events).toHaveLength(3);
    const afterA = cache.sizeBytes;
    expect(afterA).toBeGreaterThan(3 * 10_000);
    expect((await cache.read(b)).events).toHaveLength(3);
    // Both do not fit: a went, b stayed.
    expect(cache.sizeBytes).toBeLessThanOrEqual(60_000);
    expect(cache.sizeBytes).toBeGreaterThan(3 * 10_000);

    // An append through the cache extends the cached history and its size.
    const before = cache.sizeBytes;
    await cache.append(b, [envelope(1_000)], (await cache.read(b)).lastSequence);
    expect(cache.sizeBytes).toBeGreaterThan(before);
    expect((await cache.read(b)).events).toHaveLength(4);
    expect((await cache.read(a)).events).toHaveLength(3);
  });

  it('does not keep a history larger than the per-history budget', async () => {
    const big = subjects.object('photos', 'c'.repeat(64));
    await write(big, 2, 50_000);
    const cache = new CachingEventStore(store, nats, { bytesMax: 10_000_000, historyBytesMax: 60_000 });
    expect((await cache.read(big)).events).toHaveLength(2);
    expect(cache.sizeBytes).toBe(0);
  });
});
