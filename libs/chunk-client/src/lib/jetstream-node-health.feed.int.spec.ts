import { randomBytes, randomUUID } from 'node:crypto';
import { deleteNamespaceStreams, ensureStreams, JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, wrapEvent, type InstanceHealthEvent } from '@cairn/protocol';
import { JetStreamNodeHealthFeed } from './jetstream-node-health.feed';
import { NodeHealthView } from './node-health';

describe('JetStreamNodeHealthFeed on real NATS', () => {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const nats = new NatsConnectionManager({ natsUrl: 'nats://127.0.0.1:4222', namespace, region: 'test', serviceName: 't', instance: 't' });
  const store = new JetStreamEventStore(nats, namespace);
  const announce = (type: InstanceHealthEvent['type'], service: string, instance: string) => {
    const event = { type, data: { region: 'region-1', service, instance, phi: 9, lastHeartbeatAt: new Date().toISOString(), decidedBy: 'monitoring-1' } } as InstanceHealthEvent;
    const envelope = wrapEvent(event, 1, { region: 'region-1', aggregateId: `${service}/${instance}`, now: new Date(), newId: randomUUID, nextHlc: () => '0' });
    return store.publish(subjectsFor(namespace).instanceHealth('region-1', service, instance), envelope);
  };

  beforeAll(async () => ensureStreams(await nats.jetstreamManager(), namespace));
  afterAll(async () => {
    await deleteNamespaceStreams(await nats.jetstreamManager(), namespace);
    await nats.close();
  });

  it('knows at start which storage nodes are down (the last event of each), then follows NodeDown and NodeRecovered as they come', async () => {
    await announce('NodeDown', 'storage', 'storage-1');
    await announce('NodeDown', 'storage', 'storage-2');
    await announce('NodeRecovered', 'storage', 'storage-2');
    await announce('NodeDown', 'access', 'access-1');
    const view = new NodeHealthView();
    const feed = new JetStreamNodeHealthFeed(nats, view, { namespace, region: 'region-1' });
    feed.start();
    try {
      await waitFor(() => view.isDown('storage-1'));
      expect(view.isDown('storage-2')).toBe(false);
      expect([...view.downNodes().keys()]).toEqual(['storage-1']);

      await announce('NodeDown', 'storage', 'storage-3');
      await announce('NodeRecovered', 'storage', 'storage-1');
      await waitFor(() => view.isDown('storage-3') && !view.isDown('storage-1'));
    } finally {
      await feed.stop();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
