import { randomBytes, randomUUID } from 'node:crypto';
import { ensureStreams, JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type EventEnvelope } from '@cairn/protocol';
import { dropNamespace, TEST_NATS_URL, testNamespace } from '@cairn/testing';
import { CachingEventStore, FoldedStateCache } from '@cairn/key-reads';

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
    const cache = new CachingEventStore(store, { bytesMax: 60_000, historyBytesMax: 1_000_000 });

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

  it("extends a kept history, or starts one, with the last message alone when it follows what is kept", async () => {
    const subject = subjects.object('photos', 'i'.repeat(64));
    await write(subject, 1, 100);
    const cache = new CachingEventStore(store);
    const histories = jest.spyOn(store, 'read');
    const deltas = jest.spyOn(store, 'readAfter');
    try {
      const first = await cache.read(subject);
      expect(first.events).toHaveLength(1);
      const appended = await store.append(subject, [envelope(100)], first.lastSequence);
      const second = await cache.read(subject);
      expect(second.events.map((e) => e.sequence)).toEqual([first.lastSequence, appended.lastSequence]);
      expect(second.lastSequence).toBe(appended.lastSequence);
      expect(histories).not.toHaveBeenCalled();
      expect(deltas).not.toHaveBeenCalled();
      expect(await cache.read(subjects.object('photos', 'j'.repeat(64)))).toEqual({ events: [], lastSequence: 0 });
    } finally {
      histories.mockRestore();
      deltas.mockRestore();
    }
    expect((await store.read(subject)).events.map((e) => e.sequence)).toEqual((await cache.read(subject)).events.map((e) => e.sequence));
  });

  it('does not keep a history larger than the per-history budget', async () => {
    const big = subjects.object('photos', 'c'.repeat(64));
    await write(big, 2, 50_000);
    const cache = new CachingEventStore(store, { bytesMax: 10_000_000, historyBytesMax: 60_000 });
    expect((await cache.read(big)).events).toHaveLength(2);
    expect(cache.sizeBytes).toBe(0);
  });

  describe('FoldedStateCache', () => {
    // The fold counts events and the bytes of their payloads: enough to see what it was given.
    const countFold = {
      initial: () => ({ events: 0, payloadChars: 0 }),
      evolve: (state: { events: number; payloadChars: number }, event: { type: string; data: unknown }) => ({
        events: state.events + 1,
        payloadChars: state.payloadChars + String((event.data as { inline: string }).inline).length,
      }),
      sizeOf: (state: { events: number; payloadChars: number }) => state.events * 100,
    };

    it('folds a history once, then brings the kept state forward with only the events written since, by any writer', async () => {
      const subject = subjects.object('photos', 'd'.repeat(64));
      await write(subject, 5, 100);
      const cache = new CachingEventStore(store);
      const states = new FoldedStateCache(cache, countFold, { entriesMax: 10, bytesMax: 1_000_000 });
      expect(await states.load(subject)).toMatchObject({ state: { events: 5 }, sequence: (await store.read(subject)).lastSequence });
      // Another writer appends behind the cache's back.
      await store.append(subject, [envelope(100)], (await store.read(subject)).lastSequence);
      const { state, sequence } = await states.load(subject);
      expect(state.events).toBe(6);
      expect(sequence).toBe((await store.read(subject)).lastSequence);
      // A state the caller appended is kept as the subject's current one.
      states.remember(subject, { events: 99, payloadChars: 0 }, sequence);
      expect((await states.load(subject)).state.events).toBe(99);
    });

    it("takes a subject's first event, or the one event another writer appended, from the last-message look-up alone", async () => {
      const subject = subjects.object('photos', 'h'.repeat(64));
      await write(subject, 1, 100);
      const histories = jest.spyOn(store, 'read');
      const deltas = jest.spyOn(store, 'readAfter');
      try {
        const states = new FoldedStateCache(new CachingEventStore(store), countFold, { entriesMax: 10, bytesMax: 1_000_000 });
        expect((await states.load(subject)).state).toEqual({ events: 1, payloadChars: 136 });
        await store.append(subject, [envelope(100)], (await store.lastEvent(subject)).sequence);
        expect((await states.load(subject)).state).toEqual({ events: 2, payloadChars: 272 });
        expect(histories).not.toHaveBeenCalled();
        expect(deltas).not.toHaveBeenCalled();
        // Two events behind: the second-last is fetched as before.
        for (let i = 0; i < 2; i++) await store.append(subject, [envelope(100)], (await store.lastEvent(subject)).sequence);
        expect((await states.load(subject)).state.events).toBe(4);
        expect(deltas).toHaveBeenCalledTimes(1);
        // A last message published with no expected sequence names no predecessor: the history is read.
        await store.publish(subject, envelope(100));
        const cold = new FoldedStateCache(new CachingEventStore(store), countFold, { entriesMax: 10, bytesMax: 1_000_000 });
        expect((await cold.load(subject)).state.events).toBe(5);
        expect(histories).toHaveBeenCalledTimes(1);
      } finally {
        histories.mockRestore();
        deltas.mockRestore();
      }
    });

    it('keeps states within its count and byte budget', async () => {
      const cache = new CachingEventStore(store);
      const states = new FoldedStateCache(cache, countFold, { entriesMax: 2, bytesMax: 250 });
      for (const letter of ['e', 'f', 'g']) {
        const subject = subjects.object('photos', letter.repeat(64));
        await write(subject, 1, 10);
        await states.load(subject);
      }
      expect(states.sizeBytes).toBeLessThanOrEqual(250);
      expect(states.sizeBytes).toBe(200);
    });
  });
});
