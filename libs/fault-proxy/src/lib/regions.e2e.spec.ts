import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { connect, StringCodec, type JetStreamManager, type NatsConnection } from 'nats';
import { FaultProxyClient } from './fault-proxy.client';

/**
 * Three regions' NATS servers as `npm run start:regions` starts them (the same code:
 * tools/dev-stack/regions.js), joined to the hub through the fault proxy: an event
 * stream-sourced across JetStream domains crosses from region-1 to region-2; a cut of region-2's
 * link closes its connections and nothing crosses, region-2 working on alone while region-1 and
 * region-3 still reach each other; after the heal the source catches up with what it missed.
 */
interface Federation {
  stop(): Promise<void>;
}
interface RegionLayout {
  name: string;
  nats: { url: string; monitorPort: number };
}
interface Layout {
  regions: RegionLayout[];
  proxy: { controlUrl: string };
}
const REPO_ROOT = path.resolve(__dirname, '../../../..');
// Read as a file: libraries do not depend on the tools project.
const regions = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'regions.js')) as {
  regionsLayout(o: { regions: number; root: string; portShift: number }): Layout;
  startFederation(layout: Layout): Promise<Federation>;
};

/**
 * Clear of a running start:regions (and of the services' ports), of the sync e2e tests (15_000,
 * 20_000), and below the kernel's ephemeral ports (32768+), where an outgoing connection's local
 * port can hold a listener's port for a minute (TIME_WAIT).
 */
const TEST_PORT_SHIFT = 10_000;
const sc = StringCodec();

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function leafCount(region: RegionLayout): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${region.nats.monitorPort}/leafz`, { signal: AbortSignal.timeout(2_000) });
  return ((await res.json()) as { leafnodes: number }).leafnodes;
}

async function messages(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

async function sourcedSubjects(jsm: JetStreamManager): Promise<string[]> {
  const count = await messages(jsm, 'META_FROM_region-1');
  return Promise.all(Array.from({ length: count }, async (_, i) => (await jsm.streams.getMessage('META_FROM_region-1', { seq: i + 1 })).subject));
}

describe('regions on one machine: NATS leaf nodes through the fault proxy', () => {
  let root: string;
  let layout: Layout;
  let federation: Federation;
  let proxy: FaultProxyClient;
  let nc1: NatsConnection;
  let nc2: NatsConnection;
  let nc3: NatsConnection;
  let jsm1: JetStreamManager;
  let jsm2: JetStreamManager;
  let jsm3: JetStreamManager;
  const [r1, r2, r3] = [0, 1, 2];

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'cairn-regions-'));
    layout = regions.regionsLayout({ regions: 3, root, portShift: TEST_PORT_SHIFT });
    federation = await regions.startFederation(layout);
    proxy = new FaultProxyClient(layout.proxy.controlUrl);
    nc1 = await connect({ servers: layout.regions[r1].nats.url });
    nc2 = await connect({ servers: layout.regions[r2].nats.url });
    nc3 = await connect({ servers: layout.regions[r3].nats.url });
    jsm1 = await nc1.jetstreamManager();
    jsm2 = await nc2.jetstreamManager();
    jsm3 = await nc3.jetstreamManager();
    for (const region of layout.regions) await until(`${region.name}'s leaf link`, async () => (await leafCount(region)) === 1);
  }, 45_000);

  afterAll(async () => {
    await Promise.allSettled([nc1?.close(), nc2?.close(), nc3?.close()]);
    await federation?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('lays the regions out at +1000 per region with one proxy link each', async () => {
    expect(layout.regions.map((r) => r.name)).toEqual(['region-1', 'region-2', 'region-3']);
    expect((await proxy.links()).map((l) => [l.name, l.openConnections])).toEqual([
      ['region-1', 1],
      ['region-2', 1],
      ['region-3', 1],
    ]);
  });

  it('keeps each region its own JetStream domain and its own subjects; sources cross the links, stop at a cut of one region (the others still talk) and resume after the heal', async () => {
    // The same stream name in both regions, each capturing only its own region's meta.> …
    await jsm1.streams.add({ name: 'META', subjects: ['meta.>'] });
    await jsm2.streams.add({ name: 'META', subjects: ['meta.>'] });
    // … and region-2 sourcing region-1's META from the region-1 domain.
    await jsm2.streams.add({ name: 'META_FROM_region-1', sources: [{ name: 'META', domain: 'region-1' }] });
    await jsm3.streams.add({ name: 'META_FROM_region-1', sources: [{ name: 'META', domain: 'region-1' }] });
    const js1 = nc1.jetstream();

    expect((await js1.publish('meta.object.b.k1', sc.encode('v1'))).stream).toBe('META');
    await until('k1 sourced into region-2', async () => (await messages(jsm2, 'META_FROM_region-1')) === 1);
    expect(await messages(jsm2, 'META')).toBe(0);
    const copied = await jsm2.streams.getMessage('META_FROM_region-1', { seq: 1 });
    expect([copied.subject, sc.decode(copied.data)]).toEqual(['meta.object.b.k1', 'v1']);

    // A region's RPC subjects do not reach the other region; other core subjects cross the hub.
    nc1.subscribe('rpc.metadata.ping', { callback: (_e, m) => m.respond(sc.encode('pong from region-1')) });
    nc1.subscribe('fed.ping', { callback: (_e, m) => m.respond(sc.encode('pong from region-1')) });
    await nc1.flush();
    const fed = await until('fed.ping answered across the hub', () => nc2.request('fed.ping', sc.encode(''), { timeout: 500 }));
    expect(sc.decode(fed.data)).toBe('pong from region-1');
    await expect(nc2.request('rpc.metadata.ping', sc.encode(''), { timeout: 500 })).rejects.toThrow();

    // Cut region-2's link: its connection is reset and the leaf goes away on both sides.
    const cut = await proxy.cut('region-2');
    expect(cut).toMatchObject({ cut: true, openConnections: 0 });
    expect(cut.resetConnections).toBeGreaterThanOrEqual(1);
    await until('region-2 without a leaf link', async () => (await leafCount(layout.regions[r2])) === 0, 5_000);
    await until('region-1 and region-3 still at the hub', async () => (await proxy.link('region-1')).openConnections === 1 && (await proxy.link('region-3')).openConnections === 1);

    // Both sides keep working on their own JetStream; nothing crosses.
    expect((await js1.publish('meta.object.b.k2', sc.encode('v2'))).seq).toBe(2);
    expect((await nc2.jetstream().publish('meta.object.b.local', sc.encode('region-2 only'))).stream).toBe('META');
    await expect(nc2.request('fed.ping', sc.encode(''), { timeout: 500 })).rejects.toThrow();
    // region-3 is not cut off: region-1's event reaches it through the hub.
    await until('k2 sourced into region-3 during the cut', async () => (await messages(jsm3, 'META_FROM_region-1')) === 2);
    expect(sc.decode((await nc3.request('fed.ping', sc.encode(''), { timeout: 2_000 })).data)).toBe('pong from region-1');
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await sourcedSubjects(jsm2)).toEqual(['meta.object.b.k1']);
    // The leaf keeps trying, through the proxy only, and is reset each time.
    expect(await leafCount(layout.regions[r2])).toBe(0);
    expect((await proxy.link('region-2')).resetConnections).toBeGreaterThan(cut.resetConnections);

    // Heal: the leaf reconnects by itself and the source catches up with what it missed, then keeps up.
    await proxy.heal('region-2');
    await until('region-2 leaf back', async () => (await leafCount(layout.regions[r2])) === 1);
    await until('k2 sourced after the heal', async () => (await messages(jsm2, 'META_FROM_region-1')) === 2, 30_000);
    await js1.publish('meta.object.b.k3', sc.encode('v3'));
    await until('k3 sourced', async () => (await messages(jsm2, 'META_FROM_region-1')) === 3);
    expect(await sourcedSubjects(jsm2)).toEqual(['meta.object.b.k1', 'meta.object.b.k2', 'meta.object.b.k3']);
    expect(await messages(jsm2, 'META')).toBe(1);
  }, 50_000);
});
