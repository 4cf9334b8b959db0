import { connect, JSONCodec, type NatsConnection } from 'nats';
import { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type Heartbeat } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, TEST_NATS_URL, testNamespace } from '@cairn/testing';
import { MonitoringService } from '../service';
import type { MonitoringConfig } from '../monitoring.config';

const BEAT_EVERY_MS = 100;

describe('monitoring watches heartbeats', () => {
  const namespace = testNamespace();
  let monitoring: RunningService<MonitoringConfig>;
  let nc: NatsConnection;
  let nats: NatsConnectionManager;

  beforeAll(async () => {
    monitoring = await bootForTest(MonitoringService, namespace);
    await monitoring.transport.started;
    nc = await connect({ servers: TEST_NATS_URL });
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'probe', instance: 'probe' });
  });
  afterAll(async () => {
    await monitoring.close();
    await nc.close();
    await nats.close();
    await dropNamespace(namespace);
  });

  it('lists instances it hears from, declares one that falls silent down, and records its recovery', async () => {
    const subject = subjectsFor(namespace).heartbeat('region-1', 'storage', 'storage-9');
    const beat = (): void => {
      const hb: Heartbeat = {
        region: 'region-1', service: 'storage', instance: 'storage-9', version: 'test', uptimeSeconds: 1, sentAt: new Date().toISOString(),
        load: { loadAverage1m: 0, rssBytes: 1, heapUsedBytes: 1, eventLoopLagMs: 0, inFlightRequests: 0 },
      };
      nc.publish(subject, JSONCodec<Heartbeat>().encode(hb));
    };
    const timer = setInterval(beat, BEAT_EVERY_MS);
    const view = async () =>
      ((await (await fetch(`${monitoring.url}/cluster/instances`)).json()) as { instances: { instance: string; status: string }[] }).instances.find(
        (i) => i.instance === 'storage-9',
      );
    await eventually(async () => (await view())?.status === 'up');
    clearInterval(timer);

    await eventually(async () => (await view())?.status === 'down', 20_000, 200);
    const html = await (await fetch(`${monitoring.url}/dashboard`)).text();
    expect(html).toContain('storage-9');

    beat();
    await eventually(async () => (await view())?.status === 'up');
    const store = new JetStreamEventStore(nats, namespace);
    const history = await store.read(subjectsFor(namespace).instanceHealth('region-1', 'storage', 'storage-9'));
    const types = history.events.map((e) => e.envelope.type);
    expect(types[types.length - 1]).toBe('NodeRecovered');
    expect(types).toContain('NodeDown');
    expect(types.indexOf('NodeDown')).toBeLessThan(types.lastIndexOf('NodeRecovered'));
  }, 40_000);
});
