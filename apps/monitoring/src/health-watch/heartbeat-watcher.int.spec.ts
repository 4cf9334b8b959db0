import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';
import { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { MESSAGE_AUTH_HEADER, subjectsFor, type Heartbeat, type InstanceHealthEvent } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, signedFetch, startServiceProcess, TEST_NATS_URL, testClusterCredentials, testNamespace, type ServiceProcess } from '@cairn/testing';
import { MonitoringService } from '../service';
import type { MonitoringConfig } from '../monitoring.config';

const BEAT_EVERY_MS = 200;
const REGION = 'region-1';

interface InstancesReply {
  leader: boolean;
  instances: { service: string; instance: string; status: string }[];
}

/**
 * Two monitoring instances and a lock-manager: heartbeats signed as the services sign them, one
 * leader announcing, and a change of leader that announces nothing twice.
 */
describe('monitoring turns signed heartbeats into health events', () => {
  const namespace = testNamespace();
  const monitors = new Map<string, RunningService<MonitoringConfig>>();
  let locks: ServiceProcess;
  let dataDir: string;
  let nc: NatsConnection;
  let nats: NatsConnectionManager;
  let store: JetStreamEventStore;

  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-monitoring-int-'));
    locks = await startServiceProcess({ app: 'lock-manager', env: { CAIRN_NS: namespace, CAIRN_INSTANCE: 'lock-manager-1', CAIRN_DATA_DIR: dataDir } });
    for (const instance of ['monitoring-a', 'monitoring-b']) {
      const m = await bootForTest(MonitoringService, namespace, { CAIRN_INSTANCE: instance });
      await m.transport.started;
      monitors.set(instance, m);
    }
    nc = await connect({ servers: TEST_NATS_URL });
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'probe', instance: 'probe' });
    store = new JetStreamEventStore(nats, namespace);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...monitors.values()].map((m) => m.close()));
    await locks?.stop();
    await nc?.close();
    await nats?.close();
    await dropNamespace(namespace);
    await fsp.rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  const publish = (service: string, instance: string, options: { signedAs?: string | null; body?: Partial<Heartbeat> } = {}) => {
    const subject = subjectsFor(namespace).heartbeat(REGION, service, instance);
    const hb: Heartbeat = {
      region: REGION, service, instance, version: 'test', uptimeSeconds: 1, sentAt: new Date().toISOString(),
      load: { loadAverage1m: 0, rssBytes: 1, heapUsedBytes: 1, eventLoopLagMs: 0, inFlightRequests: 0 },
      ...options.body,
    };
    const data = JSONCodec<Heartbeat>().encode(hb);
    const h = natsHeaders();
    const signer = options.signedAs === undefined ? `${service}/${instance}` : options.signedAs;
    if (signer !== null) h.set(MESSAGE_AUTH_HEADER, testClusterCredentials(signer).sign(subject, data));
    nc.publish(subject, data, { headers: h });
  };
  const beating = (service: string, instance: string) => {
    publish(service, instance);
    const timer = setInterval(() => publish(service, instance), BEAT_EVERY_MS);
    return () => clearInterval(timer);
  };
  const view = async (monitor: RunningService<MonitoringConfig>): Promise<InstancesReply> => (await (await signedFetch(`${monitor.url}/cluster/instances`)).json()) as InstancesReply;
  const statusOf = async (monitor: RunningService<MonitoringConfig>, instance: string) => (await view(monitor)).instances.find((i) => i.instance === instance)?.status;
  const history = async (service: string, instance: string) =>
    (await store.read(subjectsFor(namespace).instanceHealth(REGION, service, instance))).events.map((e) => ({
      type: e.envelope.type,
      decidedBy: (e.envelope.data as InstanceHealthEvent['data']).decidedBy,
    }));
  const leader = () =>
    eventually(async () => {
      for (const [name, m] of monitors) if ((await view(m)).leader) return name;
      return undefined;
    }, 30_000, 100);

  it('declares an instance that falls silent down within the configured silence, and records its recovery, once each', async () => {
    const stop = beating('storage', 'storage-9');
    const [first] = monitors.values();
    await eventually(async () => (await statusOf(first, 'storage-9')) === 'up');
    await leader();
    stop();
    const silentAt = Date.now();
    await eventually(async () => (await history('storage', 'storage-9')).some((e) => e.type === 'NodeDown'), 10_000, 50);
    const detectedInMs = Date.now() - silentAt;
    // CAIRN_FAILURE_DOWN_AFTER_MS (3 s by default) plus a check interval and the append.
    expect(detectedInMs).toBeLessThan(4_500);
    expect((await view(first)).instances.find((i) => i.instance === 'storage-9')?.status).toBe('down');

    const stopAgain = beating('storage', 'storage-9');
    await eventually(async () => (await history('storage', 'storage-9')).some((e) => e.type === 'NodeRecovered'), 10_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    stopAgain();
    const types = (await history('storage', 'storage-9')).map((e) => e.type);
    // Both monitoring instances watch; only the leader appends, so each change is on record once.
    expect(types.filter((t) => t === 'NodeDown')).toHaveLength(1);
    expect(types.filter((t) => t === 'NodeRecovered')).toHaveLength(1);
    expect(types.indexOf('NodeDown')).toBeLessThan(types.indexOf('NodeRecovered'));
  }, 60_000);

  it('drops heartbeats that are unsigned, badly signed, or signed by another instance, and counts them', async () => {
    const timer = setInterval(() => {
      publish('storage', 'forged-1', { signedAs: null });
      publish('storage', 'forged-2', { signedAs: 'storage/storage-1' });
      publish('storage', 'forged-3', { body: { instance: 'storage-1' } });
    }, BEAT_EVERY_MS);
    const subject = subjectsFor(namespace).heartbeat(REGION, 'storage', 'forged-4');
    const h = natsHeaders();
    h.set(MESSAGE_AUTH_HEADER, testClusterCredentials('storage/forged-4').sign(subject, Buffer.from('other bytes')));
    nc.publish(subject, JSONCodec().encode({}), { headers: h });
    try {
      const [first] = monitors.values();
      const metrics = await eventually(async () => {
        const text = await (await signedFetch(`${first.url}/metrics`)).text();
        return /reason="unsigned"/.test(text) && /reason="wrong-sender"/.test(text) && /reason="bad-signature"/.test(text) ? text : undefined;
      }, 10_000, 200);
      expect(metrics).toMatch(/cairn_monitoring_heartbeats_rejected_total\{reason="wrong-sender"[^}]*\} [1-9]/);
      const seen = (await view(first)).instances.map((i) => i.instance);
      for (const forged of ['forged-1', 'forged-2', 'forged-3', 'forged-4']) expect(seen).not.toContain(forged);
    } finally {
      clearInterval(timer);
    }
  }, 30_000);

  it('a new leader re-derives what is on record: an instance already down is not announced again; its recovery is, once', async () => {
    const stop = beating('lock-manager', 'lock-manager-7');
    const first = await leader();
    const [other] = [...monitors.keys()].filter((n) => n !== first);
    await eventually(async () => (await statusOf(monitors.get(other)!, 'lock-manager-7')) === 'up');
    stop();
    await eventually(async () => (await history('lock-manager', 'lock-manager-7')).some((e) => e.type === 'NodeDown'), 10_000, 50);

    // The leader goes away (releasing its lease); the other takes over and must not repeat NodeDown.
    await monitors.get(first)!.close();
    monitors.delete(first);
    await eventually(async () => (await view(monitors.get(other)!)).leader, 20_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const stopAgain = beating('lock-manager', 'lock-manager-7');
    await eventually(async () => (await history('lock-manager', 'lock-manager-7')).some((e) => e.type === 'NodeRecovered'), 10_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stopAgain();
    const events = await history('lock-manager', 'lock-manager-7');
    expect(events.filter((e) => e.type === 'NodeDown')).toEqual([{ type: 'NodeDown', decidedBy: first }]);
    expect(events.filter((e) => e.type === 'NodeRecovered')).toEqual([{ type: 'NodeRecovered', decidedBy: other }]);
  }, 60_000);
});
