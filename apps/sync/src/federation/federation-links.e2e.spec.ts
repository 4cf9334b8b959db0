import { createHash } from 'node:crypto';
import { NatsConnectionManager } from '@cairn/messaging';
import { FederationOps } from '@cairn/protocol';
import { eventually, testClusterCredentials } from '@cairn/testing';
import type { Subscription } from 'nats';
import { TestFederation } from '../testing/federation.e2e-helper';
import { FederationRequester, serveFederationOp } from './federation-rpc';

/** Its ports sit between the other federation tests’ (20_000, 20_025, 20_050), below keptPort()’s band and the ephemeral range. */
const PORT_SHIFT = 20_075;
const REQUEST_TIMEOUT_MS = 30_000;
/** Past the 8 MB max_payload every Cairn nats-server (regions and hub) sets. */
const LARGE_BYTES = 10 * 1024 * 1024;

/**
 * Federation requests and replies larger than one NATS message across real links: two regions'
 * nats-servers joined through the hub, as `npm run start:regions` lays them out, with the links'
 * permissions (a region's own subjects never cross). The requester's region serves a large
 * request's pieces under its `fed.` subjects; the other region fetches them across the hub.
 */
describe('federation requests larger than a NATS message across the links (hub and two regions)', () => {
  const federation = new TestFederation(2, PORT_SHIFT);
  const [here, there] = federation.regionNames;
  const managers: NatsConnectionManager[] = [];
  let served: Subscription;
  let requester: FederationRequester;

  const manager = (index: number, region: string) => {
    const m = new NatsConnectionManager({ natsUrl: federation.layout.regions[index].nats.url, namespace: federation.namespace, region, serviceName: 'sync', instance: `sync-links-${region}` });
    managers.push(m);
    return m;
  };

  beforeAll(async () => {
    await federation.startNats();
    served = await serveFederationOp(manager(1, there), federation.namespace, there, FederationOps.keyEvents, testClusterCredentials(`sync/${there}`), async (payload) => {
      const { keys, replyBytes } = payload as { keys: string[]; replyBytes?: number };
      const joined = keys.join('\n');
      return { keys: keys.length, sha256: createHash('sha256').update(joined).digest('hex'), ...(replyBytes ? { padding: 'r'.repeat(replyBytes) } : {}) };
    }, { warn: () => undefined });
    requester = new FederationRequester(manager(0, here), federation.namespace, testClusterCredentials(`sync/${here}`), here);
    // The responder's subscription crosses the hub a moment after it is made.
    await eventually(() => requester.request(there, FederationOps.keyEvents, { keys: ['probe'] }, 2_000).then(() => true, () => false), 60_000, 200);
  }, 120_000);

  afterAll(async () => {
    served?.unsubscribe();
    await Promise.all(managers.map((m) => m.close()));
    await federation.stop();
  }, 60_000);

  it('sends a request larger than max_payload to another region, which fetches its pieces across the hub', async () => {
    const keys = Array.from({ length: LARGE_BYTES / 1_024 }, (_, i) => `${String(i).padStart(6, '0')}/${'k'.repeat(1_016)}`);
    const sha256 = createHash('sha256').update(keys.join('\n')).digest('hex');
    const reply = await requester.request<{ keys: number; sha256: string }>(there, FederationOps.keyEvents, { keys }, REQUEST_TIMEOUT_MS);
    expect(reply).toEqual({ keys: keys.length, sha256 });
    // Large both ways: the reply's pieces come back across the hub too.
    const both = await requester.request<{ keys: number; padding: string }>(there, FederationOps.keyEvents, { keys, replyBytes: LARGE_BYTES }, REQUEST_TIMEOUT_MS);
    expect(both.keys).toBe(keys.length);
    expect(both.padding).toHaveLength(LARGE_BYTES);
  }, 120_000);
});
