import { promises as fsp } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';
import { MESSAGE_AUTH_HEADER, subjectsFor, type Heartbeat } from '@cairn/protocol';
import { ConfigError, type RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, signedFetch, startServiceProcess, TEST_NATS_URL, testClusterCredentials, testNamespace, testOperatorToken, type ServiceProcess } from '@cairn/testing';
import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature, type AlertNotification } from '../domain/alert-delivery';
import type { RegionFigures } from '../figures/region-figures';
import type { MonitoringConfig } from '../monitoring.config';
import { MonitoringService } from '../service';

const REGION = 'region-1';
const BEAT_EVERY_MS = 200;
const WEBHOOK_SECRET = 'alerts-int-spec-webhook-secret';
const FOR_MS = 1_000;
const CAPACITY_BYTES = 1_000_000;

interface Received {
  readonly at: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly answered: number;
}

/**
 * Alerts end to end: monitoring with a rules file (a disk rule with a short `for`) and a webhook
 * at a real HTTP receiver that refuses its first delivery. A storage node's signed heartbeats
 * report its disk 95% full, then 50%.
 */
describe('alert rules fire into a webhook and resolve', () => {
  const namespace = testNamespace();
  let locks: ServiceProcess;
  let monitoring: RunningService<MonitoringConfig>;
  let dir: string;
  let nc: NatsConnection;
  let receiver: Server;
  const received: Received[] = [];
  let usedPercent = 95;
  let beat: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-alerts-int-'));
    receiver = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        // The very first delivery fails: the sender must try it again.
        const answered = received.length === 0 ? 500 : 200;
        received.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(parts).toString('utf8'), answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/cairn`;
    const rulesFile = path.join(dir, 'alert-rules.yaml');
    await fsp.writeFile(
      rulesFile,
      `rules:
  - name: disk-full
    kind: disk-usage-above
    percent: 90
    for: ${FOR_MS}ms
    severity: critical
    services: [storage]
    labels: { team: storage }
webhooks:
  - name: receiver
    url: ${hookUrl}
    secret: ${WEBHOOK_SECRET}
    retry: { attempts: 5, initialBackoff: 300ms, maxBackoff: 2s }
`,
    );
    locks = await startServiceProcess({ app: 'lock-manager', env: { CAIRN_NS: namespace, CAIRN_INSTANCE: 'lock-manager-1', CAIRN_DATA_DIR: path.join(dir, 'locks') } });
    monitoring = await bootForTest(MonitoringService, namespace, {
      CAIRN_ALERT_RULES_FILE: rulesFile,
      CAIRN_ALERT_EVALUATE_INTERVAL_MS: '200',
      CAIRN_FIGURES_SCRAPE_INTERVAL_MS: '500',
      CAIRN_FIGURES_RATE_WINDOW_MS: '5000',
    });
    nc = await connect({ servers: TEST_NATS_URL });
  }, 90_000);

  afterAll(async () => {
    if (beat) clearInterval(beat);
    await monitoring?.close();
    await locks?.stop();
    await nc?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await dropNamespace(namespace);
    await fsp.rm(dir, { recursive: true, force: true });
  }, 30_000);

  /** A heartbeat as storage-9 would send it, signed by storage-9. */
  const publishHeartbeat = () => {
    const subject = subjectsFor(namespace).heartbeat(REGION, 'storage', 'storage-9');
    const hb: Heartbeat = {
      region: REGION, service: 'storage', instance: 'storage-9', version: 'test', uptimeSeconds: 1, sentAt: new Date().toISOString(),
      load: { loadAverage1m: 0, rssBytes: 1, heapUsedBytes: 1, eventLoopLagMs: 0, inFlightRequests: 0 },
      extra: { capacityBytes: CAPACITY_BYTES, freeBytes: CAPACITY_BYTES * (1 - usedPercent / 100), chunkCount: 1 },
    };
    const data = JSONCodec<Heartbeat>().encode(hb);
    const h = natsHeaders();
    h.set(MESSAGE_AUTH_HEADER, testClusterCredentials('storage/storage-9').sign(subject, data));
    nc.publish(subject, data, { headers: h });
  };
  const asOperator = (pathAndQuery: string) => fetch(`${monitoring.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${testOperatorToken('read-only')}` } });
  const notifications = (status: 'firing' | 'resolved') => received.filter((r) => (JSON.parse(r.body) as AlertNotification).status === status);

  it('refuses to start with a rules file that has a problem, naming the variable and the rule', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await fsp.writeFile(bad, 'rules:\n  - { name: disk, kind: disk-usage-above, percent: 150 }\n');
    const attempt = bootForTest(MonitoringService, `${namespace}b`, { CAIRN_ALERT_RULES_FILE: bad });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/CAIRN_ALERT_RULES_FILE is ".*bad\.yaml": rules\[0\] \(disk\): percent must be a number from 0 to 100/);
    await expect(bootForTest(MonitoringService, `${namespace}b`, { CAIRN_ALERT_RULES_FILE: path.join(dir, 'missing.yaml') })).rejects.toThrow(/CAIRN_ALERT_RULES_FILE is ".*missing\.yaml": cannot be read/);
  });

  it('fires once the condition has held for `for`, delivers it signed after a failed attempt, lists it, and resolves when it clears', async () => {
    // The leader (lease on the lock-manager) alone delivers.
    await eventually(async () => ((await (await signedFetch(`${monitoring.url}/cluster/instances`)).json()) as { leader: boolean }).leader, 30_000, 100);
    publishHeartbeat();
    beat = setInterval(publishHeartbeat, BEAT_EVERY_MS);
    const fullSince = Date.now();

    // The first attempt is refused with 500; the same delivery comes again and is taken.
    const [first, second] = await eventually(() => (notifications('firing').length >= 2 ? notifications('firing') : undefined), 15_000, 50);
    expect(first.answered).toBe(500);
    expect(second.answered).toBe(200);
    expect(first.at - fullSince).toBeGreaterThanOrEqual(FOR_MS - BEAT_EVERY_MS);
    expect(second.headers[DELIVERY_HEADER]).toBe(first.headers[DELIVERY_HEADER]);
    expect(second.headers['x-cairn-delivery-attempt']).toBe('2');
    expect(second.at - first.at).toBeGreaterThanOrEqual(250);
    expect(second.body).toBe(first.body);
    for (const r of [first, second]) {
      const timestamp = Number(r.headers[TIMESTAMP_HEADER]);
      expect(verifySignature(WEBHOOK_SECRET, r.headers[SIGNATURE_HEADER] as string, timestamp, r.body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifySignature('some-other-secret-entirely', r.headers[SIGNATURE_HEADER] as string, timestamp, r.body, Math.floor(Date.now() / 1000))).toBe(false);
    }
    const firing = JSON.parse(second.body) as AlertNotification;
    expect(firing).toMatchObject({
      id: `${firing.alert.id}.firing`,
      status: 'firing',
      region: REGION,
      sentBy: 'monitoring/monitoring-test',
      alert: { rule: 'disk-full', kind: 'disk-usage-above', severity: 'critical', labels: { team: 'storage', service: 'storage', instance: 'storage-9' }, value: 95, threshold: 90, unit: 'percent', resolvedAt: null },
    });
    expect(Date.parse(firing.alert.firingSince as string) - Date.parse(firing.alert.activeSince)).toBeGreaterThanOrEqual(FOR_MS);

    // Listed over the API, to a read-only operator.
    const listed = (await (await asOperator('/alerts?state=firing')).json()) as { leader: boolean; alerts: { id: string; state: string; labels: Record<string, string>; value: number }[] };
    expect(listed.leader).toBe(true);
    expect(listed.alerts).toEqual([expect.objectContaining({ id: firing.alert.id, state: 'firing', value: 95, labels: expect.objectContaining({ instance: 'storage-9' }) })]);
    expect((await fetch(`${monitoring.url}/alerts`)).status).toBe(401);
    const rules = (await (await asOperator('/alerts/rules')).json()) as { rules: { name: string; health: string; forMs: number }[]; webhooks: { name: string; origin: string; signed: boolean }[] };
    expect(rules.rules).toEqual([expect.objectContaining({ name: 'disk-full', health: 'firing', forMs: FOR_MS })]);
    expect(rules.webhooks).toEqual([expect.objectContaining({ name: 'receiver', signed: true, origin: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) })]);
    expect(JSON.stringify(rules)).not.toContain(WEBHOOK_SECRET);

    // The condition clears: resolved, delivered once, and listed as resolved.
    usedPercent = 50;
    const [resolved] = await eventually(() => (notifications('resolved').length >= 1 ? notifications('resolved') : undefined), 10_000, 50);
    expect(resolved.answered).toBe(200);
    const body = JSON.parse(resolved.body) as AlertNotification;
    expect(body).toMatchObject({ id: `${firing.alert.id}.resolved`, status: 'resolved', alert: { id: firing.alert.id, resolvedAt: expect.any(String) } });
    expect(verifySignature(WEBHOOK_SECRET, resolved.headers[SIGNATURE_HEADER] as string, Number(resolved.headers[TIMESTAMP_HEADER]), resolved.body, Math.floor(Date.now() / 1000))).toBe(true);
    const after = (await (await asOperator('/alerts')).json()) as { alerts: { id: string; state: string }[] };
    expect(after.alerts).toEqual([expect.objectContaining({ id: firing.alert.id, state: 'resolved' })]);

    // Nothing more: one firing (two attempts) and one resolved.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received.map((r) => `${(JSON.parse(r.body) as AlertNotification).status} ${r.answered}`)).toEqual(['firing 500', 'firing 200', 'resolved 200']);
    const metrics = await (await asOperator('/metrics')).text();
    expect(metrics).toMatch(/cairn_alert_deliveries_total\{webhook="receiver",outcome="retried"[^}]*\} 1\b/);
    expect(metrics).toMatch(/cairn_alert_deliveries_total\{webhook="receiver",outcome="delivered"[^}]*\} 2\b/);
    expect(metrics).toContain('cairn_alerts_firing');
  }, 60_000);

  it('keeps the region’s figures: the storage node’s disk from its heartbeat, traffic scraped from each instance’s /metrics', async () => {
    for (let i = 0; i < 5; i++) await asOperator('/alerts');
    const figures = await eventually(async () => {
      const f = (await (await asOperator('/figures')).json()) as RegionFigures;
      return f.traffic?.some((t) => t.service === 'monitoring' && t.requestsPerSecond > 0) ? f : undefined;
    }, 15_000, 200);
    const storage = figures.instances.find((i) => i.instance === 'storage-9');
    expect(storage).toMatchObject({ service: 'storage', status: 'up', disk: { capacityBytes: CAPACITY_BYTES, usedRatio: 0.5 } });
    const self = figures.instances.find((i) => i.service === 'monitoring');
    // Its heartbeat names its URL; the scrape there is signed as monitoring and succeeds.
    expect(self).toMatchObject({ url: monitoring.url, scrape: { ok: true } });
    // Every service's heartbeat carries its replication factor (the replication-factor-mismatch rule reads it).
    expect(self?.extra).toMatchObject({ replicationFactor: 3 });
    const traffic = figures.traffic?.find((t) => t.service === 'monitoring');
    expect(traffic?.errorRatio).toBe(0);
    expect(traffic?.p99Seconds).toBeGreaterThan(0);
    expect(figures.replicationLag).toBeNull();
  }, 30_000);
});
