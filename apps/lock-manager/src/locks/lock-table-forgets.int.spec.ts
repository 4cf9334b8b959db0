import path from 'node:path';
import { SnapshotStoreAdapter } from '@cairn/consensus-runtime';
import { LockClient } from '@cairn/lock-client';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { runPool } from '@cairn/service-kit';
import { dropNamespace, eventually, signedFetch, TEST_NATS_URL, testClusterCredentials, testNamespace } from '@cairn/testing';
import type { LockTableState } from '../domain/lock-table.state-machine';
import { LockManagerCluster } from '../testing/lock-manager-cluster.fixture';

/** Distinct resources each locked and released once: a per-object workload. */
const DISTINCT_RESOURCES = 3_000;
/** Of those, the ones locked again under the next leader. */
const RELOCKED_RESOURCES = 500;
const CLIENTS = 32;
const SNAPSHOT_EVERY_ENTRIES = 200;
/** A snapshot of a table with nothing locked: a few counters. Every resource ever locked would be ~100 bytes each. */
const EMPTY_SNAPSHOT_MAX_BYTES = 1_000;
const SNAPSHOT_WAIT_MS = 60_000;

interface StoredTable {
  readonly index: number;
  readonly bytes: number;
  readonly state: LockTableState;
}

describe('a lock table that forgets free resources (per-object keys, a leader killed)', () => {
  const namespace = testNamespace();
  const cluster = new LockManagerCluster(namespace, undefined, { CAIRN_RAFT_SNAPSHOT_EVERY_ENTRIES: String(SNAPSHOT_EVERY_ENTRIES) });
  const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'lock-test', instance: 'lock-test' });
  const rpc = new RpcClient(nats, namespace, testClusterCredentials());
  const clients = Array.from({ length: CLIENTS }, (_, i) => new LockClient(rpc, { owner: `per-object-worker-${i}` }));
  const resources = Array.from({ length: DISTINCT_RESOURCES }, (_, i) => `tenant-a/bucket-b/objects/some/deeper/path/key-${i}`);

  /** The snapshot `instance` last wrote to its data directory, as the lock table it holds. */
  const storedTable = (instance: string): StoredTable | undefined => {
    const snapshot = new SnapshotStoreAdapter(path.join(cluster.dataRoot, instance)).load();
    if (!snapshot) return undefined;
    return { index: snapshot.metadata.index, bytes: Buffer.byteLength(snapshot.data), state: (JSON.parse(snapshot.data) as { state: LockTableState }).state };
  };

  /** Locks and releases each resource once, on `CLIENTS` clients; returns each resource's token. */
  const lockAndRelease = async (names: readonly string[]): Promise<Map<string, number>> => {
    const tokens = new Map<string, number>();
    await runPool(names, CLIENTS, undefined, async (resource, i) => {
      const client = clients[i % CLIENTS];
      const grant = await client.acquire(resource, { ttlMs: 60_000 });
      tokens.set(resource, grant.fencingToken);
      await client.release(grant);
    });
    return tokens;
  };

  beforeAll(async () => {
    await cluster.start();
  }, 90_000);

  afterAll(async () => {
    await cluster.stop();
    await nats.close();
    await dropNamespace(namespace);
  });

  it('keeps its snapshots small however many resources were locked, and grants larger tokens after a failover', async () => {
    const { leader: first } = await cluster.leader();
    const before = await lockAndRelease(resources);
    expect(before.size).toBe(DISTINCT_RESOURCES);
    const lastTokenBefore = Math.max(...before.values());
    expect(new Set(before.values()).size).toBe(DISTINCT_RESOURCES);

    // Every replica snapshots its own table. Lock one more resource over and over until each has
    // snapshotted past the last release: then its table holds at most that one.
    const released = (await cluster.raft(first))!.commit;
    const deadline = Date.now() + SNAPSHOT_WAIT_MS;
    const stored = new Map<string, StoredTable>();
    while (stored.size < cluster.instances.length) {
      if (Date.now() > deadline) throw new Error(`no snapshot past index ${released} on ${cluster.instances.filter((i) => !stored.has(i)).join(', ')}`);
      const grant = await clients[0].acquire('filler', { ttlMs: 60_000 });
      await clients[0].release(grant);
      for (const instance of cluster.instances) {
        const s = storedTable(instance);
        if (s && s.index > released) stored.set(instance, s);
      }
    }
    for (const [instance, s] of stored) {
      const kept = Object.keys(s.state.resources).filter((r) => r !== 'filler');
      expect({ instance, kept: kept.length, some: kept.slice(0, 3) }).toEqual({ instance, kept: 0, some: [] });
      expect(s.bytes).toBeLessThan(EMPTY_SNAPSHOT_MAX_BYTES);
      expect(s.state.lastFencingToken).toBeGreaterThanOrEqual(lastTokenBefore);
    }

    await cluster.kill(first, 'SIGKILL');
    const survivors = cluster.instances.filter((i) => i !== first);
    const { leader: second } = await cluster.leader(survivors, 15_000);
    expect(second).not.toBe(first);

    // Forgotten resources locked again under the new leader: each token beats the resource's own and every earlier one.
    const again = await lockAndRelease(resources.slice(0, RELOCKED_RESOURCES));
    for (const [resource, token] of again) {
      expect(token).toBeGreaterThan(before.get(resource)!);
      expect(token).toBeGreaterThan(lastTokenBefore);
    }
    // A free resource shows the table's last token: no grant of it had more, the next will.
    const lastTokenAgain = Math.max(...again.values());
    const res = await signedFetch(`${cluster.url(second)}/locks/${encodeURIComponent(resources[DISTINCT_RESOURCES - 1])}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ holders: [], waiters: [], lastFencingToken: lastTokenAgain });

    // The killed node comes back from its own small snapshot and log, and agrees.
    await cluster.startNode(first);
    const leaderView = (await cluster.raft(second))!;
    await eventually(async () => {
      const v = await cluster.raft(first);
      return v?.started && v.leader === second && v.applied >= leaderView.commit ? v : undefined;
    }, 30_000);
    const held = await clients[0].acquire(resources[0], { ttlMs: 60_000 });
    expect(held.fencingToken).toBeGreaterThan(lastTokenAgain);
    const onRestarted = await eventually(async () => {
      const r = await signedFetch(`${cluster.url(first)}/locks/${encodeURIComponent(resources[0])}`);
      const body = (await r.json()) as { holders: { fencingToken: number }[] };
      return body.holders.length === 1 ? body : undefined;
    }, 20_000);
    expect(onRestarted).toMatchObject({ holders: [{ owner: clients[0].owner, fencingToken: held.fencingToken }], lastFencingToken: held.fencingToken });
    await clients[0].release(held);
  }, 300_000);
});
