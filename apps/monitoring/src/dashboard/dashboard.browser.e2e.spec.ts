import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JetStreamEventStore, NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { DrillSchemaVersions, METADATA_SERVICE, MetadataRpc, subjectsFor, type DrillReport, type DrillReported, type ListNodesReply } from '@cairn/protocol';
import { EventClock } from '@cairn/service-kit';
import { dropNamespace, eventually, signedFetch, startServiceProcess, testClusterCredentials, testNamespace, testOperatorToken, TEST_NATS_URL, type ServiceProcess } from '@cairn/testing';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a real
 * region: metadata, a lock-manager, three storage nodes in three zones, the scheduler, a sync
 * federated with a region that is not there, and monitoring, all as processes. The page loads with
 * no console error, shows the sync's replication lag and control group, a drill report published on
 * CLUSTER, a storage node killed with SIGKILL as down within seconds, and a scrub's progress moving;
 * it leaves a screenshot in tmp/test-output/dashboard/ (and in docs/images/ with
 * CAIRN_UPDATE_DOCS_SCREENSHOT=1).
 */
const CHROMIUM_PATH = process.env['CAIRN_CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const chromiumMissing = !existsSync(CHROMIUM_PATH);
if (chromiumMissing) {
  // The one reason this test may skip: CI (.ci/run) installs chromium, so there it always runs.
  console.warn(`dashboard browser test SKIPPED: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CAIRN_CHROMIUM_PATH)`);
}
const describeInBrowser = chromiumMissing ? describe.skip : describe;

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
const OUTPUT_DIR = path.join(WORKSPACE_ROOT, 'tmp/test-output/dashboard');
const DOCS_SCREENSHOT = path.join(WORKSPACE_ROOT, 'docs/images/dashboard.png');
const NODES = [
  { nodeId: 'storage-1', zone: 'zone-a' },
  { nodeId: 'storage-2', zone: 'zone-b' },
  { nodeId: 'storage-3', zone: 'zone-c' },
] as const;
const KiB = 1024;
const CHUNK_BYTES = 256 * KiB;
const CHUNKS_PER_NODE = 24;
/** "scrub now" at this pace takes ~12 s per node (a chunk per 500 ms tick): slow enough to watch under load, quick enough to finish. */
const SCRUB_BYTES_PER_SECOND = 512 * KiB;
/** monitoring's default silence before an instance is down (monitoring.config.ts). */
const DOWN_AFTER_MS = 3_000;
/** Detection (at most DOWN_AFTER_MS), the page's next poll (1.5 s) and slack for a loaded machine. */
const SHOWN_DOWN_WITHIN_MS = DOWN_AFTER_MS + 6_000;
const READY_TIMEOUT_MS = 60_000;
/** The sync's peer: named in CAIRN_SYNC_PEERS, never started (its link is down, its lag reported). */
const ABSENT_PEER = 'region-9';
/** monitoring scrapes every 5 s (CAIRN_FIGURES_SCRAPE_INTERVAL_MS): two rounds and slack. */
const SCRAPED_WITHIN_MS = 20_000;

describeInBrowser('the dashboard in headless Chromium, against a running region', () => {
  const namespace = testNamespace();
  const readOnlyToken = testOperatorToken('read-only');
  const adminToken = testOperatorToken('admin');
  const processes: ServiceProcess[] = [];
  const storage = new Map<string, ServiceProcess>();
  let dataRoot = '';
  let scheduler: ServiceProcess;
  let monitoring: ServiceProcess;
  let nats: NatsConnectionManager;
  let rpc: RpcClient;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const admin = async <T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${scheduler.url}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${pathAndQuery}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };

  beforeAll(async () => {
    dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-dashboard-e2e-'));
    const base = { CAIRN_NS: namespace };
    const started = async (p: Promise<ServiceProcess>) => {
      const s = await p;
      processes.push(s);
      return s;
    };
    // Every start settles before a failure is thrown, so afterAll stops whatever did start.
    const all = async <T extends unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> => {
      const outcomes = await Promise.allSettled(starts);
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
      return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value) as T;
    };
    await all([
      started(startServiceProcess({ app: 'metadata', env: { ...base, CAIRN_INSTANCE: 'metadata-1' } })),
      started(startServiceProcess({ app: 'lock-manager', env: { ...base, CAIRN_INSTANCE: 'lock-manager-1', CAIRN_DATA_DIR: path.join(dataRoot, 'lock-manager-1') } })),
    ]);
    const startNode = async ({ nodeId, zone }: (typeof NODES)[number]) => {
      const env = { ...base, CAIRN_INSTANCE: nodeId, CAIRN_DATA_DIR: path.join(dataRoot, nodeId), CAIRN_STORAGE_ZONE: zone, CAIRN_STORAGE_HOST: `host-${nodeId.slice(-1)}` };
      storage.set(nodeId, await started(startServiceProcess({ app: 'storage', env })));
    };
    const schedulerEnv = {
      ...base,
      CAIRN_INSTANCE: 'scheduler-1',
      CAIRN_SWEEP_INTERVAL_MS: String(86_400_000),
      CAIRN_SCRUB_TICK_MS: '500',
      CAIRN_SCRUB_MAX_BYTES_PER_SECOND: String(SCRUB_BYTES_PER_SECOND),
    };
    const syncEnv = {
      ...base,
      CAIRN_INSTANCE: 'sync-1',
      CAIRN_SYNC_PEERS: ABSENT_PEER,
      CAIRN_CONTROL_DIR: path.join(dataRoot, 'sync-control'),
      CAIRN_ANTI_ENTROPY_LEASE: 'none',
      CAIRN_ANTI_ENTROPY_INTERVAL_MS: '0',
    };
    const [sched, mon] = await all<[ServiceProcess, ServiceProcess, ...unknown[]]>([
      started(startServiceProcess({ app: 'scheduler', env: schedulerEnv })),
      started(startServiceProcess({ app: 'monitoring', env: { ...base, CAIRN_INSTANCE: 'monitoring-1' } })),
      started(startServiceProcess({ app: 'sync', env: syncEnv })),
      ...NODES.map(startNode),
    ]);
    scheduler = sched;
    monitoring = mon;
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'region-1', serviceName: 'e2e', instance: 'e2e-dashboard' });
    rpc = new RpcClient(nats, namespace, testClusterCredentials());
    await eventually(async () => {
      const reply = await rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}).catch(() => undefined);
      return reply && reply.nodes.length === NODES.length ? reply : undefined;
    }, READY_TIMEOUT_MS);
    // The scheduler's first scrub pass over the empty nodes ends at once; the next is not due for
    // its period, so the only scrub that moves below is the one this test starts.
    await eventually(async () => {
      const { nodes } = await admin<{ nodes: { nodeId: string; previousPass: unknown }[] }>('GET', '/admin/scrub');
      return nodes.length === NODES.length && nodes.every((n) => n.previousPass !== null);
    }, READY_TIMEOUT_MS, 250);
    // Chunks on every node (not referenced by any object: the sweep only counts them, GC waits a day).
    await Promise.all(
      NODES.map(async ({ nodeId }) => {
        const url = storage.get(nodeId)!.url;
        for (let i = 0; i < CHUNKS_PER_NODE; i++) {
          const bytes = randomBytes(CHUNK_BYTES);
          const hash = createHash('sha256').update(bytes).digest('hex');
          const res = await signedFetch(`${url}/chunks/${hash}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
          if (!res.ok) throw new Error(`PUT chunk on ${nodeId}: ${res.status} ${await res.text()}`);
        }
      }),
    );
    // A sweep lists what each node holds, so a scrub pass has a total to make progress against.
    await admin('POST', '/admin/sweep');
    await eventually(async () => {
      const jobs = await admin<{ sweep: { lastComplete: { state: string; nodes: Record<string, { bytes: number }> } | null } }>('GET', '/admin/jobs');
      const last = jobs.sweep.lastComplete;
      return last?.state === 'done' && NODES.every(({ nodeId }) => (last.nodes[nodeId]?.bytes ?? 0) >= CHUNKS_PER_NODE * CHUNK_BYTES);
    }, READY_TIMEOUT_MS, 250);
    // monitoring has heard every instance.
    await eventually(async () => {
      const res = await signedFetch(`${monitoring.url}/cluster/instances`);
      const view = (await res.json()) as { instances: { instance: string; status: string }[] };
      return NODES.every(({ nodeId }) => view.instances.some((i) => i.instance === nodeId && i.status === 'up'));
    }, READY_TIMEOUT_MS, 200);

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
    page.on('requestfailed', (request) => consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    await fsp.mkdir(OUTPUT_DIR, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await nats?.close();
    await dropNamespace(namespace);
    if (dataRoot) await fsp.rm(dataRoot, { recursive: true, force: true });
  }, 60_000);

  const jobRow = (id: string) => page.locator(`#jobs tr[data-job="${id}"]`);

  it('serves the page with no credentials, its data only with an operator token', async () => {
    const html = await fetch(`${monitoring.url}/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await html.text()).toContain('/dashboard/app.js');
    for (const asset of ['app.js', 'charts.js', 'style.css']) expect((await fetch(`${monitoring.url}/dashboard/${asset}`)).status).toBe(200);
    expect((await fetch(`${monitoring.url}/dashboard/secrets.json`)).status).toBe(404);
    expect((await fetch(`${monitoring.url}/api/dashboard`)).status).toBe(401);
    expect((await fetch(`${monitoring.url}/api/dashboard`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);
    const data = await fetch(`${monitoring.url}/api/dashboard`, { headers: { authorization: `Bearer ${readOnlyToken}` } });
    expect(data.status).toBe(200);
    const view = (await data.json()) as { nodes: { items: { nodeId: string; zone: string; health: string; capacityBytes: number | null }[] }; jobs: { available: boolean } };
    expect(view.nodes.items.map((n) => [n.nodeId, n.zone, n.health])).toEqual(NODES.map((n) => [n.nodeId, n.zone, 'up']));
    expect(view.nodes.items.every((n) => (n.capacityBytes ?? 0) > 0)).toBe(true);
    expect(view.jobs.available).toBe(true);
  });

  it('loads with the token from the URL fragment, shows the region, nodes with zone and capacity, and logs no console error', async () => {
    await page.goto(`${monitoring.url}/#token=${encodeURIComponent(readOnlyToken)}`);
    // The token leaves the address bar at once, and the page is live.
    await page.waitForSelector('#connection[data-state="connected"]', { timeout: 15_000 });
    expect(new URL(page.url()).hash).toBe('');
    for (const { nodeId, zone } of NODES) {
      const row = page.locator(`#nodes tr[data-node="${nodeId}"]`);
      await expect(row.getAttribute('data-health')).resolves.toBe('up');
      await expect(row.locator('td').nth(1).textContent()).resolves.toBe(zone);
      await expect(row.locator('.bar .text').textContent()).resolves.toMatch(/ of .*\(\d+(\.\d)?%\)/);
    }
    await expect(page.locator('#regions [data-region="region-1"]').count()).resolves.toBe(1);
    await expect(page.locator('#instances tr[data-instance="scheduler/scheduler-1"]').count()).resolves.toBe(1);
    // The last sweep's three kinds of work and a scrub line per node.
    await page.waitForSelector('#jobs tr[data-kind="repair"]');
    await expect(page.locator('#jobs tr[data-kind="scrub"]').count()).resolves.toBe(NODES.length);
    // The rolling charts draw from the first polls: event-loop lag from every service's heartbeats.
    await page.waitForSelector('#chart-loop path[data-series="storage"]', { timeout: 10_000 });
    // A few polls later, still no error.
    await page.waitForTimeout(3_500);
    expect(consoleErrors).toEqual([]);
  });

  it('shows the sync’s replication lag per region and its control group, read from its metrics and GET /control', async () => {
    // The absent peer is listed with a lag figure (0: nothing of it to apply) and its link down.
    const peer = page.locator(`#region-table tr[data-region="${ABSENT_PEER}"]`);
    await page.waitForSelector(`#region-table tr[data-region="${ABSENT_PEER}"]:not([data-lag-ms=""])`, { timeout: SCRAPED_WITHIN_MS });
    await expect(peer.locator('td').nth(4).textContent()).resolves.toBe('down');
    await expect(page.locator(`#regions [data-region="${ABSENT_PEER}"]`).textContent()).resolves.toContain('lag');
    await expect(page.locator('#lag').textContent()).resolves.toContain(`from ${ABSENT_PEER}`);
    await expect(page.locator('#sum-replication-sub').textContent()).resolves.toContain(`link down from ${ABSENT_PEER}`);
    // Two voters: neither is down by a majority (one of two is not one); the homes come from GET /control, signed as monitoring.
    await expect(page.locator('#control-note').textContent()).resolves.toMatch(/^from sync-1 · .*no region down/);
    await page.waitForSelector('#homes tr.empty:has-text("no active-passive bucket")', { timeout: SCRAPED_WITHIN_MS });
    expect(consoleErrors).toEqual([]);
  }, 30_000);

  it('shows "no drill yet", then a drill report published on the region’s CLUSTER stream', async () => {
    await expect(page.locator('#drills').textContent()).resolves.toContain('no drill yet');
    const failedAt = new Date(Date.now() - 20_000);
    const report: DrillReport = {
      id: 'drill-e2e-1',
      region: 'region-1',
      bucket: 'cairn-drill',
      method: 'cut-links',
      startedAt: new Date(failedAt.getTime() - 5_000).toISOString(),
      failedAt: failedAt.toISOString(),
      promotedAt: new Date(failedAt.getTime() + 5_400).toISOString(),
      healedAt: new Date(failedAt.getTime() + 12_000).toISOString(),
      finishedAt: new Date(failedAt.getTime() + 15_000).toISOString(),
      oldHome: 'region-1',
      newHome: ABSENT_PEER,
      epoch: 2,
      rtoSeconds: 6.3,
      failoverSeconds: 5.4,
      rpoObjects: 2,
      rpoSeconds: 0.4,
      acknowledgedByOldHomeAfterFailure: 1,
      writes: { attempted: 300, acknowledged: 290, refused: 10 },
      splitBrain: false,
      converged: true,
      convergedSeconds: 1.2,
      lostAcknowledged: 0,
      ok: true,
      problems: [],
    };
    const event: DrillReported = { type: 'DrillReported', data: report };
    const clock = new EventClock({ service: 'e2e', instance: 'e2e-dashboard', region: 'region-1', namespace, version: '0.1.0' });
    await new JetStreamEventStore(nats, namespace).publish(subjectsFor(namespace).drills(), clock.envelope(event, report.id, DrillSchemaVersions.DrillReported));
    const row = page.locator('#drills tr[data-drill="drill-e2e-1"]');
    await page.waitForSelector('#drills tr[data-drill="drill-e2e-1"][data-result="PASS"]', { timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 9)).toEqual(['PASS', 'region-1', 'cairn-drill', `${ABSENT_PEER} (epoch 2)`, '5.4 s', '6.3 s', "2 objects / 0.4 s + 1 in the old home's lease", 'no', '0']);
    await expect(page.locator('#sum-drill').textContent()).resolves.toBe('PASS');
    expect(consoleErrors).toEqual([]);
  }, 30_000);

  it('asks for a token when it has none, takes one from the sign-in form, and says when one is refused', async () => {
    const context = await browser.newContext();
    try {
      const other = await context.newPage();
      const apiCalls: string[] = [];
      other.on('request', (r) => r.url().includes('/api/') && apiCalls.push(r.url()));
      await other.goto(`${monitoring.url}/`);
      await other.waitForSelector('#sign-in:not([hidden])');
      expect(await other.isHidden('#dashboard')).toBe(true);
      expect(apiCalls).toEqual([]);
      await other.fill('#token-input', 'not-a-token');
      await other.click('#sign-in-form button[type="submit"]');
      await other.waitForSelector('#sign-in-error:has-text("refused")');
      await other.fill('#token-input', readOnlyToken);
      await other.click('#sign-in-form button[type="submit"]');
      await other.waitForSelector('#connection[data-state="connected"]');
      await other.waitForSelector('#nodes tr[data-node="storage-1"]');
    } finally {
      await context.close();
    }
  });

  it('shows a storage node killed with SIGKILL as down within seconds', async () => {
    const victim = storage.get('storage-3')!;
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await exited;
    await page.waitForSelector('#nodes tr[data-node="storage-3"][data-health="down"]', { timeout: SHOWN_DOWN_WITHIN_MS + 5_000 });
    const shownAfterMs = Date.now() - killedAt;
    console.log(`dashboard: storage-3 shown down ${shownAfterMs} ms after SIGKILL`);
    expect(shownAfterMs).toBeLessThan(SHOWN_DOWN_WITHIN_MS);
    await expect(page.locator('#nodes tr[data-node="storage-1"]').getAttribute('data-health')).resolves.toBe('up');
    await expect(page.locator('#sum-nodes').textContent()).resolves.toBe('2 / 3 up');
    // The alert engine's node-down rule puts it in the alerts list too (pending or firing).
    await page.waitForSelector('#alerts .alert:has-text("storage-3"):has-text("down")', { timeout: 15_000 });
    expect(consoleErrors).toEqual([]);
  }, 40_000);

  it('shows a scrub’s progress moving, with a rate and an ETA, until it is done', async () => {
    await admin('POST', '/admin/scrub', { nodeIds: ['storage-1', 'storage-2'] });
    const row = jobRow('scrub:storage-1');
    await page.waitForSelector('#jobs tr[data-job="scrub:storage-1"][data-state="running"]', { timeout: 10_000 });
    const seen: number[] = [];
    let screenshotTaken = false;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const fraction = Number(await row.getAttribute('data-fraction'));
      if (seen[seen.length - 1] !== fraction) seen.push(fraction);
      if (!screenshotTaken && fraction > 0.25 && fraction < 0.85) {
        // Mid-scrub: a progress bar part full, its rate and ETA shown.
        await expect(row.locator('td').nth(4).textContent()).resolves.toMatch(/\/s$/);
        await expect(row.locator('td').nth(5).textContent()).resolves.toMatch(/\d+ s|min/);
        await screenshot();
        screenshotTaken = true;
      }
      if (fraction >= 1) break;
      await page.waitForTimeout(250);
    }
    console.log(`dashboard: scrub of storage-1 seen at ${seen.map((f) => `${Math.round(f * 100)}%`).join(' → ')}`);
    // At least three distinct values, each larger than the one before, ending at 100%.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((f, i) => i === 0 || f > seen[i - 1])).toBe(true);
    expect(seen[seen.length - 1]).toBe(1);
    if (!screenshotTaken) await screenshot();
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  async function screenshot(): Promise<void> {
    const file = path.join(OUTPUT_DIR, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`dashboard: screenshot saved to ${path.relative(WORKSPACE_ROOT, file)}`);
    if (process.env['CAIRN_UPDATE_DOCS_SCREENSHOT'] === '1') {
      await fsp.mkdir(path.dirname(DOCS_SCREENSHOT), { recursive: true });
      await fsp.copyFile(file, DOCS_SCREENSHOT);
      console.log(`dashboard: screenshot copied to ${path.relative(WORKSPACE_ROOT, DOCS_SCREENSHOT)}`);
    }
  }
});
