import { NatsConnectionManager } from '@cairn/messaging';
import { FederationOps } from '@cairn/protocol';
import { TEST_NATS_URL, testClusterCredentials, testNamespace } from '@cairn/testing';
import type { Subscription } from 'nats';
import { FederationRequester, serveFederationOp } from './federation-rpc';

describe('federation request/reply over real NATS', () => {
  const namespace = testNamespace();
  const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'region-a', serviceName: 'sync', instance: 'sync-fed-test' });
  let served: Subscription;

  beforeAll(async () => {
    served = await serveFederationOp(nats, namespace, 'region-a', FederationOps.keyEvents, testClusterCredentials('sync/region-a'), async (payload) => {
      const { events, keys } = payload as { events: number; keys?: string[] };
      // A key with a long history: its events together are several NATS messages' worth.
      return {
        events: Array.from({ length: events }, (_, i) => ({ sequence: i + 1, type: 'ObjectVersionPut', data: { key: 'k', padding: 'p'.repeat(500) } })),
        ...(keys ? { keysReceived: keys.length, lastKey: keys[keys.length - 1] } : {}),
      };
    }, { warn: () => undefined });
  });

  afterAll(async () => {
    served.unsubscribe();
    await nats.close();
  });

  it('answers with a reply larger than one NATS message, fetched in pieces across the federation subjects', async () => {
    const requester = new FederationRequester(nats, namespace, testClusterCredentials('sync/region-b'), 'region-b');
    const reply = await requester.request<{ events: { sequence: number }[] }>('region-a', FederationOps.keyEvents, { events: 8_000 }, 10_000);
    expect(reply.events).toHaveLength(8_000);
    expect(reply.events[7_999].sequence).toBe(8_000);
    const small = await requester.request<{ events: unknown[] }>('region-a', FederationOps.keyEvents, { events: 1 }, 10_000);
    expect(small.events).toHaveLength(1);
  });

  it('takes a request larger than one NATS message: the responder fetches it in pieces from the requester', async () => {
    const requester = new FederationRequester(nats, namespace, testClusterCredentials('sync/region-b'), 'region-b');
    // ~3.6 MB of keys: past the 1 MiB default max_payload (and several pieces of it).
    const keys = Array.from({ length: 3_000 }, (_, i) => `${String(i).padStart(5, '0')}/${'k'.repeat(1_150)}`);
    const reply = await requester.request<{ events: unknown[]; keysReceived: number; lastKey: string }>('region-a', FederationOps.keyEvents, { events: 1, keys }, 20_000);
    expect(reply.keysReceived).toBe(3_000);
    expect(reply.lastKey).toBe(keys[2_999]);
    // Large both ways: a large request answered with a large reply.
    const both = await requester.request<{ events: unknown[]; keysReceived: number }>('region-a', FederationOps.keyEvents, { events: 8_000, keys }, 20_000);
    expect(both.events).toHaveLength(8_000);
    expect(both.keysReceived).toBe(3_000);
  }, 60_000);
});
