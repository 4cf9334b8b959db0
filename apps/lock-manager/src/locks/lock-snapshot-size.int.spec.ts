import { LockClient } from '@cairn/lock-client';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { dropNamespace, eventually, signedFetch, TEST_NATS_URL, testClusterCredentials, testNamespace } from '@cairn/testing';
import { runPool } from '@cairn/service-kit';
import { LockManagerCluster } from '../testing/lock-manager-cluster.fixture';

/** Enough held locks that the table's snapshot is several times NATS's default 1 MiB payload limit. */
const HELD_LOCKS = 12_000;
const SNAPSHOT_EVERY_ENTRIES = 500;
const ACQUIRING_CLIENTS = 32;

describe('a follower that missed more than the log holds catches up from a snapshot larger than a NATS message', () => {
  const namespace = testNamespace();
  const cluster = new LockManagerCluster(namespace, undefined, { CAIRN_RAFT_SNAPSHOT_EVERY_ENTRIES: String(SNAPSHOT_EVERY_ENTRIES) });
  const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'lock-test', instance: 'lock-test' });
  const rpc = new RpcClient(nats, namespace, testClusterCredentials());

  beforeAll(async () => {
    await cluster.start();
  }, 90_000);

  afterAll(async () => {
    await cluster.stop();
    await nats.close();
    await dropNamespace(namespace);
  });

  it('restores every held lock on the restarted node', async () => {
    const { leader } = await cluster.leader();
    const follower = cluster.instances.find((i) => i !== leader)!;
    await cluster.kill(follower, 'SIGKILL');

    const clients = Array.from({ length: ACQUIRING_CLIENTS }, (_, i) => new LockClient(rpc, { owner: `holder-with-a-longish-owner-name-${i}` }));
    const resources = Array.from({ length: HELD_LOCKS }, (_, i) => `tenant-a/bucket-b/objects/some/deeper/path/key-${i}`);
    await runPool(resources, ACQUIRING_CLIENTS, undefined, async (resource, i) => {
      await clients[i % ACQUIRING_CLIENTS].acquire(resource, { ttlMs: 600_000 });
    });

    const leaderView = (await cluster.raft(leader))!;
    await cluster.startNode(follower);
    const caughtUp = await eventually(async () => {
      const v = await cluster.raft(follower);
      return v?.started && v.applied >= leaderView.commit ? v : undefined;
    }, 60_000);
    // It had none of these entries on disk: they reached it only in the snapshot.
    expect(leaderView.firstIndex).toBeGreaterThan(caughtUp.recoveredLastIndex + 1);

    for (const index of [0, HELD_LOCKS / 2, HELD_LOCKS - 1]) {
      const res = await signedFetch(`${cluster.url(follower)}/locks/${encodeURIComponent(resources[index])}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ holders: [expect.objectContaining({ owner: `holder-with-a-longish-owner-name-${index % ACQUIRING_CLIENTS}` })] });
    }
  }, 240_000);
});
