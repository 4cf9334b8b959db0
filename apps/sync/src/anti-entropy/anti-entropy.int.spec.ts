import { createHash } from 'node:crypto';
import { keyIdOf, PrefixMerkleTree } from '@cairn/hashing';
import { NatsConnectionManager, RpcClient, rpcCodec } from '@cairn/messaging';
import {
  ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES,
  ANTI_ENTROPY_TREE_DEPTH,
  federationSubject,
  FederationOps,
  METADATA_SERVICE,
  MetadataRpc,
  type AntiEntropyKeyDigest,
  type AntiEntropyKeyEventsReply,
  type AntiEntropyNodeReply,
  type AntiEntropyStatusView,
  type ApplyReplicatedRequest,
  type ListReplicaLeavesReply,
  type PutObjectReply,
  type Reply,
} from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, startServiceProcess, testClusterCredentials, testNamespace, testOperatorToken, TEST_NATS_URL, type ServiceProcess } from '@cairn/testing';
import { connect, headers, type NatsConnection } from 'nats';
import { SyncService } from '../service';
import type { SyncConfig } from '../sync.config';
import { AntiEntropyPeer } from './anti-entropy.peer';
import { AntiEntropyService } from './anti-entropy.service';
import { FederationRequester } from '../federation/federation-rpc';
import { repairKey } from './key-repair';
import { compareMerkleTrees } from './merkle-compare';
import { KeyDigestFolder } from './replica-digest';
import { NoChunkPuller } from './replica-chunks.port';
import { treeSide } from './tree-side';

const REGION = 'region-1';
const BUCKET = 'ae-photos';
const KEYS = 300;
const RPC_TIMEOUT_MS = 15_000;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * This region's side of anti-entropy against the real metadata (its own process), NATS and
 * Postgres: what a peer's sync gets over `fed.region-1.ae.*` — signed requests only, the tree of a
 * bucket, a range's key digests, a key's events — and a comparison of that tree (over NATS) with a
 * differing in-memory one. Two whole regions are the e2e test's.
 */
describe('anti-entropy responder and comparison (real NATS, metadata, Postgres)', () => {
  const ns = testNamespace();
  let metadata: ServiceProcess;
  let sync: RunningService<SyncConfig>;
  let rpc: RpcClient;
  let nc: NatsConnection;
  let nats: NatsConnectionManager;
  let federation: FederationRequester;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });

  beforeAll(async () => {
    metadata = await startServiceProcess({ app: 'metadata', env: { CAIRN_NS: ns, CAIRN_REGION: REGION, CAIRN_INSTANCE: 'metadata-ae', CAIRN_LOG_LEVEL: 'info' } });
    // No peers here: the peer's side is played by this test (a second region is the e2e test's).
    sync = await bootForTest(SyncService, ns, { CAIRN_REGION: REGION, CAIRN_SYNC_PEERS: '', CAIRN_ANTI_ENTROPY_LEASE: 'none', CAIRN_ANTI_ENTROPY_INTERVAL_MS: '0' });
    rpc = sync.app.get(RpcClient);
    nc = await connect({ servers: TEST_NATS_URL });
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: ns, region: 'region-2', serviceName: 'sync', instance: 'sync-peer' });
    federation = new FederationRequester(nats, ns, testClusterCredentials('sync/sync-peer'), 'region-2');
    await call(MetadataRpc.createBucket, { bucket: BUCKET, owner: 'alice', versioningEnabled: true, replication: { mode: 'active-active' } });
    let last = 0;
    for (let i = 0; i < KEYS; i++) {
      const body = `body ${i}`;
      const put = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: BUCKET, key: `k/${i}`, sizeBytes: body.length, etag: md5(body), chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length, inline: Buffer.from(body).toString('base64') }] });
      last = put.sequence;
    }
    await call(MetadataRpc.putObject, { bucket: BUCKET, key: 'k/0', sizeBytes: 3, etag: md5('two'), chunks: [{ hash: createHash('sha256').update('two').digest('hex'), offsetBytes: 0, sizeBytes: 3, inline: Buffer.from('two').toString('base64') }] });
    await call(MetadataRpc.deleteObject, { bucket: BUCKET, key: 'k/1' });
    // The leaves are read from the projection: wait until it has everything.
    await call(MetadataRpc.listObjectsV2, { bucket: BUCKET, minSequence: last + 2 });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.close();
    await sync?.close();
    await metadata?.stop();
    await dropNamespace(ns);
  }, 60_000);

  /** Every key digest of the bucket, computed here from metadata's leaves. */
  async function digestsHere(): Promise<AntiEntropyKeyDigest[]> {
    const folder = new KeyDigestFolder();
    const out: AntiEntropyKeyDigest[] = [];
    let after: ListReplicaLeavesReply['next'] = null;
    for (;;) {
      const page: ListReplicaLeavesReply = await call<ListReplicaLeavesReply>(MetadataRpc.listReplicaLeaves, { bucket: BUCKET, limit: 77, ...(after ? { after } : {}) });
      out.push(...folder.add(page.leaves));
      if (!page.next) return [...out, ...folder.end()];
      after = page.next;
    }
  }

  it('refuses unsigned and badly signed requests, answers signed ones', async () => {
    const subject = federationSubject(ns, REGION, FederationOps.merkleNode);
    const unsigned = rpcCodec.decode((await nc.request(subject, rpcCodec.encode({ requester: 'region-2', probe: true }), { timeout: 5_000 })).data) as Reply<unknown>;
    expect(unsigned).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    const events = federationSubject(ns, REGION, FederationOps.keyEvents);
    const forged = rpcCodec.decode(
      (await nc.request(events, rpcCodec.encode({ requester: 'region-2', bucket: BUCKET, keyId: keyIdOf('k/0') }), { timeout: 5_000, headers: headersWith('Cairn-Auth', 'v1.forged') })).data,
    ) as Reply<unknown>;
    expect(forged).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    await expect(federation.request<AntiEntropyNodeReply>(REGION, FederationOps.merkleNode, { requester: 'region-2', probe: true }, 5_000)).resolves.toEqual({ region: REGION });
    await expect(federation.request(REGION, FederationOps.merkleNode, { requester: 'region-2', bucket: BUCKET, depth: 3, prefixes: [''] }, 5_000)).rejects.toMatchObject({ code: 'AE_TREE_SHAPE_MISMATCH' });
    await expect(federation.request(REGION, FederationOps.merkleNode, { requester: 'region-2', bucket: BUCKET, depth: ANTI_ENTROPY_TREE_DEPTH, prefixes: ['xyz'] }, 5_000)).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
  });

  it('serves the tree of the bucket as metadata’s leaves make it, and a range’s key digests', async () => {
    const expected = PrefixMerkleTree.of(await digestsHere(), ANTI_ENTROPY_TREE_DEPTH);
    const reply = await federation.request<AntiEntropyNodeReply>(REGION, FederationOps.merkleNode, { requester: 'region-2', bucket: BUCKET, depth: ANTI_ENTROPY_TREE_DEPTH, prefixes: ['', 'a', '3c'], fresh: true }, 30_000);
    expect(reply.nodes?.map((n) => n.prefix)).toEqual(['', 'a', '3c']);
    expect(reply.nodes?.[0]).toMatchObject({ hash: expected.root, keys: KEYS });
    expect(reply.nodes?.[1].children).toEqual(expected.children('a'));
    const peer = new AntiEntropyPeer(federation, REGION, 'region-2', 30_000);
    const keys = await peer.side(BUCKET).keys('');
    expect(keys).toEqual(await digestsHere());
    expect(keys.find((k) => k.keyId === keyIdOf('k/0'))).toBeDefined();
  });

  it('a comparison over NATS with a differing tree finds exactly the keys that differ', async () => {
    const here = await digestsHere();
    const gone = keyIdOf('k/42');
    const changed = keyIdOf('k/7');
    const extra = { keyId: keyIdOf('only-in-region-2'), digest: 'x' };
    const mine = [...here.filter((d) => d.keyId !== gone).map((d) => (d.keyId === changed ? { ...d, digest: 'other' } : d)), extra].sort((a, b) => (a.keyId < b.keyId ? -1 : 1));
    const peer = new AntiEntropyPeer(federation, REGION, 'region-2', 30_000);
    const outcome = await compareMerkleTrees(
      treeSide(PrefixMerkleTree.of(mine, ANTI_ENTROPY_TREE_DEPTH), async (prefix) => mine.filter((d) => d.keyId.startsWith(prefix))),
      peer.side(BUCKET),
      { depth: ANTI_ENTROPY_TREE_DEPTH, listMaxKeys: 8, nodesPerRequest: 64, listConcurrency: 4 },
    );
    expect(outcome.differences.map((d) => [d.keyId, d.left === null, d.right === null])).toEqual(
      [
        [gone, true, false],
        [changed, false, false],
        [extra.keyId, false, true],
      ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    );
    expect(outcome.keysPeer).toBe(KEYS);
    // 300 keys, listed when a range holds at most 8: a few requests, not one per key.
    expect(peer.requests).toBeLessThan(20);
  });

  it('serves a key’s events in stream order, leaving out the requester’s own; repair applies them with their origin', async () => {
    const peer = new AntiEntropyPeer(federation, REGION, 'region-2', 30_000);
    const all = await peer.keyEvents({ bucket: BUCKET, keyId: keyIdOf('k/0') });
    expect(all.events.map((e) => e.envelope.type)).toEqual(['ObjectVersionPut', 'ObjectVersionPut']);
    expect(all.events[0].sequence).toBeLessThan(all.events[1].sequence);
    expect(all.isTruncated).toBe(false);
    expect(await peer.keyEvents({ bucket: BUCKET, keyId: keyIdOf('k/0'), excludeOrigin: REGION })).toMatchObject({ events: [], throughSequence: all.events[1].sequence });
    expect((await peer.keyEvents({ bucket: BUCKET, keyId: keyIdOf('k/0'), afterSequence: all.events[0].sequence })).events).toEqual([all.events[1]]);

    const applied: ApplyReplicatedRequest[] = [];
    const outcome = await repairKey({
      self: 'region-2',
      bucket: BUCKET,
      keyId: keyIdOf('k/1'),
      peer,
      apply: async (request) => {
        applied.push(request);
        return { applied: applied.length === 1, sequence: 1 };
      },
      chunks: new NoChunkPuller(),
      localVersionIds: async () => new Set(),
      signal: new AbortController().signal,
    });
    expect(applied.map((a) => [a.sourceRegion, a.envelope.type])).toEqual([
      [REGION, 'ObjectVersionPut'],
      [REGION, 'DeleteMarkerPut'],
    ]);
    expect(outcome).toEqual({ eventsFetched: 2, eventsApplied: 1, eventsAlreadyApplied: 1, chunksPulled: 0 });
  });

  it('pages a long key history by size: each reply under ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES, all of it in order', async () => {
    const versions = 12;
    for (let i = 0; i < versions; i++) {
      const body = Buffer.alloc(60 * 1024, i);
      await call(MetadataRpc.putObject, { bucket: BUCKET, key: 'big', sizeBytes: body.length, etag: md5(body.toString('latin1')), chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length, inline: body.toString('base64') }] });
    }
    const peer = new AntiEntropyPeer(federation, REGION, 'region-2', 30_000);
    const pages: AntiEntropyKeyEventsReply[] = [];
    let afterSequence = 0;
    for (;;) {
      const page = await peer.keyEvents({ bucket: BUCKET, keyId: keyIdOf('big'), afterSequence });
      pages.push(page);
      expect(Buffer.byteLength(JSON.stringify(page.events.map((e) => e.envelope)))).toBeLessThan(ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES + 1024);
      if (!page.isTruncated) break;
      afterSequence = page.throughSequence;
    }
    expect(pages.length).toBeGreaterThan(1);
    const sequences = pages.flatMap((p) => p.events.map((e) => e.sequence));
    expect(sequences).toHaveLength(versions);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
  });

  it('shows its state at GET /replication/anti-entropy to operators; without peers it runs nothing and says so', async () => {
    const auth = { authorization: `Bearer ${testOperatorToken('admin')}` };
    const view = (await (await fetch(`${sync.url}/replication/anti-entropy`, { headers: auth })).json()) as AntiEntropyStatusView;
    expect(view).toMatchObject({ region: REGION, leader: false, peers: [], running: [], queued: [], reports: [] });
    const refused = await fetch(`${sync.url}/replication/anti-entropy`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ bucket: BUCKET }) });
    expect([refused.status, ((await refused.json()) as { code?: string }).code]).toEqual([421, 'NOT_LEADER']);
    const bad = await fetch(`${sync.url}/replication/anti-entropy`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ peer: 'Not A Region' }) });
    expect(bad.status).toBe(400);
    expect((await fetch(`${sync.url}/replication/anti-entropy`)).status).toBe(401);
    expect(sync.app.get(AntiEntropyService).status()).toMatchObject({ name: 'sync-anti-entropy', progress: { detail: 'no peers' } });
  });
});

function headersWith(name: string, value: string) {
  const h = headers();
  h.set(name, value);
  return h;
}
