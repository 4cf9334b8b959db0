import { randomBytes, randomUUID } from 'node:crypto';
import { parseContentHash } from '@cairn/hashing';
import { deleteNamespaceStreams, ensureStreams, JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, wrapEvent } from '@cairn/protocol';
import { JetStreamUnderReplicationRecorder } from './jetstream-under-replication.recorder';

describe('JetStreamUnderReplicationRecorder on real NATS', () => {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const nats = new NatsConnectionManager({ natsUrl: 'nats://127.0.0.1:4222', namespace, region: 'test', serviceName: 't', instance: 't' });
  const store = new JetStreamEventStore(nats, namespace);

  beforeAll(async () => ensureStreams(await nats.jetstreamManager(), namespace));
  afterAll(async () => {
    await deleteNamespaceStreams(await nats.jetstreamManager(), namespace);
    await nats.close();
  });

  it('appends one ChunkUnderReplicated event per missed replica on the chunk subject', async () => {
    const recorder = new JetStreamUnderReplicationRecorder(store, namespace, (event, aggregateId) =>
      wrapEvent(event, 1, { region: 'test', aggregateId, now: new Date(), newId: randomUUID, nextHlc: () => '0' }),
    );
    const hash = parseContentHash('ab'.repeat(32));
    await recorder.record({ hash, sizeBytes: 10, nodeId: 'storage-3', reason: 'ECONNREFUSED', ringEpoch: 4, detectedAtMs: 1 });
    await recorder.record({ hash, sizeBytes: 10, nodeId: 'storage-2', reason: 'timeout', ringEpoch: 4, detectedAtMs: 2 });

    const history = await store.read(subjectsFor(namespace).chunkHealth(hash));
    expect(history.events.map((e) => [e.envelope.type, (e.envelope.data as { nodeId: string }).nodeId])).toEqual([
      ['ChunkUnderReplicated', 'storage-3'],
      ['ChunkUnderReplicated', 'storage-2'],
    ]);
  });
});
