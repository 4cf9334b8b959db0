import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FaultProxyClient } from '@cairn/fault-proxy';
import { NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import { eventually, testNamespace } from '@cairn/testing';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { InboundLinkWorker } from './inbound-link.worker';
import { ensureInboundStream, inboundStreamName } from './peer-changes';

/** Clear of the other federation tests' shifts (10_000, 15_000, 20_000, 20_050) port for port. */
const PORT_SHIFT = 20_025;
const LINK_WAIT_MS = 60_000;
const REPO_ROOT = path.resolve(__dirname, '../../../..');

interface RegionNats {
  readonly name: string;
  readonly nats: { readonly url: string; readonly configFile: string; readonly port: number };
}
interface Federation {
  /** stop() ends each entry's child as it is then: a restarted server is put in its entry. */
  readonly processes: { readonly name: string; child: ChildProcess }[];
  stop(): Promise<void>;
}
const regionsJs = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'regions.js')) as {
  regionsLayout(o: { regions: number; root: string; portShift: number }): { regions: RegionNats[]; proxy: { controlUrl: string } };
  startFederation(layout: unknown): Promise<Federation>;
};

/**
 * One inbound link between two regions' real NATS servers (the hub and the fault proxy of
 * start:regions between them), with no services: the orderings that left a region that never
 * started replicating — the peer's stream made after the link, the link cut, the peer's NATS
 * restarted, a redial cut short — each ends with the link connected and the peer's messages
 * here once each, and the link says what it waited on meanwhile.
 */
describe('an inbound link from a peer region', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'cairn-inbound-link-'));
  const layout = regionsJs.regionsLayout({ regions: 2, root, portShift: PORT_SHIFT });
  const [peer, here] = layout.regions;
  const namespace = testNamespace();
  const subjects = subjectsFor(namespace);
  const peerStream = subjects.streamName('META');
  const inbound = inboundStreamName(namespace, peer.name);
  let federation: Federation;
  let proxy: FaultProxyClient;
  let manager: NatsConnectionManager;
  let link: InboundLinkWorker;
  let peerConnection: NatsConnection;
  let peerJsm: JetStreamManager;
  let hereJsm: JetStreamManager;
  const logged: string[] = [];
  let published = 0;

  const publishAtPeer = async (count: number) => {
    const js = peerConnection.jetstream();
    for (let i = 0; i < count; i++) await js.publish(subjects.prefix(`meta.bucket.b${published++}`), new TextEncoder().encode(`change ${published}`));
  };
  /** The link connected and every message the peer has, here, once. */
  const caughtUp = async (what: string) => {
    await eventually(async () => {
      const info = await hereJsm.streams.info(inbound);
      return link.connected && info.state.messages === published;
    }, LINK_WAIT_MS, 250).catch((error: unknown) => {
      throw new Error(`${what}: ${String(error)}; link ${JSON.stringify(link.view())}; log ${logged.join(' | ')}`);
    });
    expect((await hereJsm.streams.info(inbound)).state.messages).toBe(published);
  };

  beforeAll(async () => {
    federation = await regionsJs.startFederation(layout);
    proxy = new FaultProxyClient(layout.proxy.controlUrl);
    manager = new NatsConnectionManager({ natsUrl: here.nats.url, namespace, region: here.name, serviceName: 'sync', instance: 'link-test' });
    hereJsm = await manager.jetstreamManager();
    link = new InboundLinkWorker(peer.name, manager, namespace, { log: (m) => logged.push(m), warn: (m) => logged.push(m) });
  }, 60_000);

  afterAll(async () => {
    await link?.stop();
    await peerConnection?.close();
    await manager?.close();
    await federation?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 30_000);

  it('waits, saying so, for a peer whose stream is made after the link, then connects', async () => {
    await ensureInboundStream(hereJsm, namespace, peer.name);
    link.start();
    await eventually(() => link.view().state === 'peer-not-ready', LINK_WAIT_MS, 100);
    expect(link.view().lastError).toContain(`${peer.name} has no ${peerStream} stream yet`);

    peerConnection = await connect({ servers: peer.nats.url });
    peerJsm = await peerConnection.jetstreamManager();
    await peerJsm.streams.add({ name: peerStream, subjects: [subjects.prefix('meta.>')] });
    await publishAtPeer(5);
    await caughtUp('after the peer made its stream');
    expect(link.view()).toMatchObject({ state: 'connected', lastConnectedAt: expect.any(String) });
  }, 90_000);

  it('says the peer is unreachable while the link is cut, and catches up after the heal', async () => {
    await proxy.cut(peer.name);
    try {
      await eventually(() => link.view().state === 'peer-unreachable', LINK_WAIT_MS, 100);
      expect(link.view().lastError).toContain(`${peer.name}'s JetStream does not answer across the link`);
      await publishAtPeer(3);
    } finally {
      await proxy.heal(peer.name);
    }
    await caughtUp('after the heal');
  }, 90_000);

  it("connects again after the peer's NATS restarts", async () => {
    const server = federation.processes.find((p) => p.name === `nats-${peer.name}`)!;
    await peerConnection.close();
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
    await eventually(() => link.view().state === 'peer-unreachable', LINK_WAIT_MS, 100);
    const restarted = spawn('nats-server', ['-c', peer.nats.configFile], { stdio: 'ignore' });
    server.child = restarted;
    peerConnection = await eventually(() => connect({ servers: peer.nats.url }).catch(() => undefined), LINK_WAIT_MS, 200);
    peerJsm = await peerConnection.jetstreamManager();
    await eventually(() => peerJsm.streams.info(peerStream).then(() => true, () => false), LINK_WAIT_MS, 200);
    await publishAtPeer(4);
    await caughtUp("after the peer's NATS restarted");
  }, 120_000);

  it('gives the copy its source back when a redial was cut short, and a redial sources nothing twice', async () => {
    await hereJsm.streams.update(inbound, { sources: [] });
    await publishAtPeer(2);
    await caughtUp('after the source was taken away');
    const before = (await hereJsm.streams.info(inbound)).state.messages;
    await link.redial();
    await publishAtPeer(2);
    await caughtUp('after a redial');
    expect((await hereJsm.streams.info(inbound)).state.messages).toBe(before + 2);
    expect((await hereJsm.streams.info(inbound)).config.subjects ?? []).toEqual([]);
  }, 90_000);
});
