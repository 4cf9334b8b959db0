import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { HashRing, contentHashOf, type ContentHash } from '@cairn/hashing';
import { ClusterKeys, type StorageNodeView } from '@cairn/protocol';
import { ClusterCredentials } from '@cairn/service-kit';
import { ChunkClient, STRAGGLER_GRACE_CAP_MS } from './chunk-client';
import { ChunkUnavailableError, WriteQuorumNotReachedError } from './chunk-client.errors';
import { InMemoryUnderReplicationRecorder } from './under-replication-recorder.port';
import { regionReplication } from './replication-strategy';
import { NodePools, StorageNodeClient } from './storage-node.client';
import { ringMembers, StorageRingProvider } from './storage-ring.provider';

// Storage nodes take only requests signed with the cluster secret (the test environment's).
const signer = new ClusterCredentials(new ClusterKeys(process.env['CAIRN_CLUSTER_SECRET']!), 'test/chunk-client', 30_000).httpInterceptor();

const WORKSPACE = path.resolve(__dirname, '../../../..');
const DATA_PLANE_SCRIPT = path.join(WORKSPACE, 'apps/storage/src/testing/standalone-data-plane.ts');
const NODE_START_TIMEOUT_MS = 30_000;
const MiB = 1024 * 1024;

interface RunningNode {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly url: string;
  readonly process: ChildProcess;
}

/** Every process a test started, so none outlives the file even when a test fails mid-way. */
const spawned = new Set<ChildProcess>();
afterAll(() => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A storage node as a real process, serving its data plane on an ephemeral port. */
async function startNode(nodeId: string, dataDir: string, env: Record<string, string> = {}): Promise<RunningNode> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', DATA_PLANE_SCRIPT], {
    cwd: WORKSPACE,
    env: { ...process.env, CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${nodeId} did not start: ${stderr}`)), NODE_START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`node ${nodeId} exited with ${code}: ${stderr}`)));
  });
  return { nodeId, dataDir, url: (JSON.parse(line) as { url: string }).url, process: child };
}

async function stopNode(node: RunningNode): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const exited = new Promise((r) => node.process.once('exit', r));
  node.process.kill('SIGKILL');
  await exited;
}

describe('ChunkClient against three real storage nodes', () => {
  let root: string;
  let nodes: RunningNode[];
  let client: ChunkClient;
  let recorder: InMemoryUnderReplicationRecorder;
  let ring: HashRing;

  const urls = new Map<string, string>();

  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-chunk-client-'));
    nodes = await Promise.all(['n1', 'n2', 'n3'].map(async (id) => startNode(id, await fsp.mkdtemp(path.join(root, `${id}-`)))));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map(stopNode));
    await fsp.rm(root, { recursive: true, force: true });
  });

  // Nodes a test stopped come back on their own data, on a new port, before the next test.
  beforeEach(async () => {
    nodes = await Promise.all(nodes.map((n) => (n.process.exitCode === null && n.process.signalCode === null ? n : startNode(n.nodeId, n.dataDir))));
    for (const n of nodes) urls.set(n.nodeId, n.url);
    ring = HashRing.build({ epoch: 1, members: nodes.map((n, i) => ({ nodeId: n.nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 })) });
    recorder = new InMemoryUnderReplicationRecorder();
    client = new ChunkClient({ ring: () => ring, addressOf: (id) => urls.get(id) ?? 'http://127.0.0.1:1', signer, underReplication: recorder, strategy: regionReplication(3).standard });
  }, 60_000);

  afterEach(async () => {
    await client.close();
  });

  const readAll = async (hash: ContentHash, range?: { start: number; end: number }, into?: Buffer) => {
    const result = await client.readChunk(hash, range, into);
    const parts: Buffer[] = [];
    for await (const p of result.stream) parts.push(p as Buffer);
    return { ...result, bytes: Buffer.concat(parts) };
  };

  it('writes to all three replicas and reads back, buffered and streamed', async () => {
    const small = randomBytes(300 * 1024);
    const written = await client.writeChunk(small);
    expect([...written.stored].sort()).toEqual(['n1', 'n2', 'n3']);
    expect(written.missed).toEqual([]);
    expect((await readAll(written.hash)).bytes.equals(small)).toBe(true);
    expect((await readAll(written.hash, { start: 10, end: 20 })).bytes.equals(small.subarray(10, 20))).toBe(true);

    const big = randomBytes(12 * MiB);
    const hash = contentHashOf(big);
    const streamed = await client.writeChunk(Readable.from((function* () {
      for (let i = 0; i < big.length; i += 256 * 1024) yield big.subarray(i, i + 256 * 1024);
    })()), { hash });
    expect(streamed.stored).toHaveLength(3);
    expect(streamed.sizeBytes).toBe(big.length);
    const back = await readAll(hash);
    expect(back.bytes.equals(big)).toBe(true);
    expect(recorder.entries).toEqual([]);
  }, 60_000);

  it('takes the hash of bytes given with it, and a wrong one fails the write: every replica refuses the body', async () => {
    const data = randomBytes(200 * 1024);
    const named = await client.writeChunk(data, { hash: contentHashOf(data) });
    expect(named.stored).toHaveLength(3);
    expect((await readAll(named.hash)).bytes.equals(data)).toBe(true);

    const other = randomBytes(200 * 1024);
    const failure = await client.writeChunk(other, { hash: contentHashOf(data.subarray(1)) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WriteQuorumNotReachedError);
    const error = failure as WriteQuorumNotReachedError;
    expect(error.stored).toEqual([]);
    expect(error.failures.every((f) => /HTTP 400 CHUNK_HASH_MISMATCH/.test(f.reason))).toBe(true);
    expect(recorder.entries).toEqual([]);
  }, 60_000);

  it('with one node stopped, writes succeed at w=2 and record the missing replica', async () => {
    await stopNode(nodes[2]);
    const data = randomBytes(64 * 1024 + 1);
    const written = await client.writeChunk(data);
    expect([...written.stored].sort()).toEqual(['n1', 'n2']);
    expect(written.missed.map((m) => m.nodeId)).toEqual(['n3']);
    expect(recorder.entries).toEqual([
      expect.objectContaining({ hash: written.hash, nodeId: 'n3', ringEpoch: 1, sizeBytes: data.length, reason: expect.stringMatching(/ECONNREFUSED/) }),
    ]);
    const back = await readAll(written.hash);
    expect(back.bytes.equals(data)).toBe(true);
  }, 60_000);

  it('with two nodes stopped, writes fail and say which replicas failed and why', async () => {
    await Promise.all([stopNode(nodes[0]), stopNode(nodes[2])]);
    const data = randomBytes(1000);
    const failure = await client.writeChunk(data).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WriteQuorumNotReachedError);
    const error = failure as WriteQuorumNotReachedError;
    expect(error.code).toBe('WRITE_QUORUM_NOT_REACHED');
    expect(error.stored).toEqual(['n2']);
    expect(error.failures.map((f) => f.nodeId).sort()).toEqual(['n1', 'n3']);
    expect(error.failures.every((f) => /ECONNREFUSED/.test(f.reason))).toBe(true);
    expect(error.message).toMatch(/n1 .*ECONNREFUSED/);
    expect(recorder.entries).toEqual([]);
  }, 60_000);

  it('reads from another replica when the fastest holds a flipped byte, and says so', async () => {
    const data = randomBytes(2 * MiB);
    const { hash } = await client.writeChunk(data);
    const victim = nodes[1];
    const file = path.join(victim.dataDir, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);
    const fh = await fsp.open(file, 'r+');
    await fh.write(Buffer.from([data[MiB] ^ 0x10]), 0, 1, MiB);
    await fh.close();
    // Make the corrupt replica look fastest so it is tried first: enough observations that the
    // moving average forgets what earlier cases measured (failures count 1 s, a loaded machine more).
    for (let i = 0; i < 40; i++) {
      client.latency.observe('n1', 50);
      client.latency.observe('n2', 1);
      client.latency.observe('n3', 50);
    }

    const back = await readAll(hash);
    expect(back.bytes.equals(data)).toBe(true);
    expect(back.fellOverFrom.map((f) => f.nodeId)).toEqual(['n2']);
    expect(back.servedBy).not.toBe('n2');
    expect(await fsp.readdir(path.join(victim.dataDir, 'corrupt'))).toEqual([expect.stringMatching(new RegExp(`^${hash}`))]);
  }, 60_000);

  it('receives a whole chunk into the buffer it is given, and still refuses a flipped byte there', async () => {
    const data = randomBytes(2 * MiB);
    const { hash } = await client.writeChunk(data);
    const into = Buffer.alloc(3 * MiB);
    const back = await readAll(hash, undefined, into);
    expect(back.bytes.equals(data)).toBe(true);
    const [piece] = await (await client.readChunk(hash, undefined, into)).stream.toArray();
    expect((piece as Buffer).buffer).toBe(into.buffer);
    expect((piece as Buffer).length).toBe(data.length);

    const file = path.join(nodes[0].dataDir, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);
    const fh = await fsp.open(file, 'r+');
    await fh.write(Buffer.from([data[7] ^ 0x01]), 0, 1, 7);
    await fh.close();
    for (let i = 0; i < 40; i++) {
      client.latency.observe('n1', 1);
      client.latency.observe('n2', 50);
      client.latency.observe('n3', 50);
    }
    into.fill(0);
    const fellOver = await readAll(hash, undefined, into);
    expect(fellOver.fellOverFrom.map((f) => f.nodeId)).toEqual(['n1']);
    expect(fellOver.bytes.equals(data)).toBe(true);
    expect(into.subarray(0, data.length).equals(data)).toBe(true);
  }, 60_000);

  it('spreads whole reads in flight at once over the replicas instead of sending them all to the fastest', async () => {
    const datas = [randomBytes(2 * MiB), randomBytes(2 * MiB), randomBytes(2 * MiB)];
    const hashes = await Promise.all(datas.map(async (d) => (await client.writeChunk(d)).hash));
    for (let i = 0; i < 40; i++) {
      client.latency.observe('n1', 50);
      client.latency.observe('n2', 1);
      client.latency.observe('n3', 50);
    }
    const reads = await Promise.all(hashes.map((hash) => readAll(hash, undefined, Buffer.alloc(2 * MiB))));
    reads.forEach((read, i) => expect(read.bytes.equals(datas[i])).toBe(true));
    expect(reads[0].servedBy).toBe('n2');
    expect(reads.map((r) => r.servedBy).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(['n1', 'n2', 'n3'].map((id) => client.readsInFlightTo(id))).toEqual([0, 0, 0]);
  }, 60_000);

  it('reads a chunk from its first replica each time, while none is slow, busy or failing', async () => {
    const data = randomBytes(2 * MiB);
    const { hash } = await client.writeChunk(data);
    for (let i = 0; i < 40; i++) for (const id of ['n1', 'n2', 'n3']) client.latency.observe(id, 20);
    const first = regionReplication(3).standard.readNodes(ring, hash)[0].nodeId;
    for (let i = 0; i < 5; i++) expect((await readAll(hash, undefined, Buffer.alloc(2 * MiB))).servedBy).toBe(first);
  }, 60_000);

  it('a streamed read resumes on another replica when its node dies mid-body', async () => {
    const big = randomBytes(24 * MiB);
    const { hash } = await client.writeChunk(Readable.from([big]), { hash: contentHashOf(big) });
    // Outweigh whatever the write measured, so n1 is the replica read first.
    for (let i = 0; i < 50; i++) {
      client.latency.observe('n1', 1);
      client.latency.observe('n2', 500);
      client.latency.observe('n3', 500);
    }
    const result = await client.readChunk(hash);
    expect(result.servedBy).toBe('n1');
    const parts: Buffer[] = [];
    let killed = false;
    for await (const p of result.stream) {
      parts.push(p as Buffer);
      if (!killed) {
        killed = true;
        await stopNode(nodes[0]);
      }
    }
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    expect(result.fellOverFrom.map((f) => f.nodeId)).toEqual(['n1']);
  }, 60_000);

  it('a hung replica does not hold a write up: the write returns at w=2 within the straggler grace and records it missed', async () => {
    nodes[2].process.kill('SIGSTOP');
    try {
      const data = randomBytes(256 * 1024);
      const startedMs = performance.now();
      const written = await client.writeChunk(data);
      const elapsedMs = performance.now() - startedMs;
      expect([...written.stored].sort()).toEqual(['n1', 'n2']);
      expect(written.missed.map((m) => m.nodeId)).toEqual(['n3']);
      expect(written.missed[0].reason).toMatch(/after the write quorum answered/);
      // Far below the 10 s headers timeout a hung node used to cost every write.
      expect(elapsedMs).toBeLessThan(STRAGGLER_GRACE_CAP_MS + 2_000);
      expect(recorder.entries.map((e) => e.nodeId)).toEqual(['n3']);
    } finally {
      nodes[2].process.kill('SIGCONT');
    }
  }, 60_000);

  it('deletes with the fencing token of a resource: the node fences each resource apart', async () => {
    const datas = [randomBytes(1000), randomBytes(2000), randomBytes(3000)];
    const hashes = await Promise.all(datas.map(async (d) => (await client.writeChunk(d)).hash));
    const pools = new NodePools((id) => urls.get(id) ?? 'http://127.0.0.1:1', signer);
    const storage = new StorageNodeClient(pools);
    try {
      expect(await storage.delete('n1', hashes[0], { fencingToken: 1_000_000, fencingResource: 'test/other-lease' })).toBe('deleted');
      expect(await storage.delete('n1', hashes[1], { fencingToken: 3, fencingResource: 'test/gc' })).toBe('deleted');
      await expect(storage.delete('n1', hashes[2], { fencingToken: 2, fencingResource: 'test/gc' })).rejects.toMatchObject({ code: 'FENCING_TOKEN_STALE' });
      expect(await storage.delete('n1', hashes[2], { fencingToken: 3, fencingResource: 'test/gc', unlessTouchedSinceMs: 0 })).toBe('recently-touched');
      expect(await storage.delete('n1', hashes[1], { fencingToken: 3, fencingResource: 'test/gc' })).toBe('absent');
      expect(await storage.head('n1', hashes[2])).toBe(datas[2].length);
    } finally {
      await pools.close();
    }
  }, 60_000);

  it('reads from the fallback nodes when none of the ring replicas holds the chunk (a rebalance in progress)', async () => {
    const data = randomBytes(100 * 1024);
    const { hash } = await client.writeChunk(data);
    await client.close();
    // A ring of one node that never got the chunk; the old holders are only fallbacks.
    const spare = await startNode('n4', await fsp.mkdtemp(path.join(root, 'n4-')));
    urls.set('n4', spare.url);
    try {
      const newRing = HashRing.build({ epoch: 2, members: [{ nodeId: 'n4', zone: 'z9', host: 'h9', weight: 1 }] });
      const failovers: string[] = [];
      client = new ChunkClient({
        ring: () => newRing,
        addressOf: (id) => urls.get(id) ?? 'http://127.0.0.1:1',
        signer,
        underReplication: recorder,
        strategy: regionReplication(3).standard,
        fallbackReadNodes: () => ['n1', 'n2', 'n3'],
        onReadFailover: (e) => failovers.push(e.nodeId),
      });
      const back = await readAll(hash);
      expect(back.bytes.equals(data)).toBe(true);
      expect(failovers).toEqual(['n4']);
      expect(['n1', 'n2', 'n3']).toContain(back.servedBy);
    } finally {
      await stopNode(spare);
    }
  }, 60_000);

  it('reads a chunk written when one node was alone after two more joined in turn (the ring moved twice since its write)', async () => {
    // A region starting at rf=1: n2 joins first and takes the first writes; n1 and then n3 join
    // more than a poll apart, so the gateway's ring goes epoch 1 {n2} -> 2 {n1, n2} -> 3 {n1, n2, n3}.
    const view = (nodeId: string, epoch: number): StorageNodeView => ({
      nodeId, zone: `z-${nodeId}`, host: `h-${nodeId}`, address: urls.get(nodeId)!, weight: 1, capacityBytes: 1e12, draining: false, joinedAt: '2026-01-01T00:00:00Z', epoch,
    });
    const memberships = [['n2'], ['n2', 'n1'], ['n2', 'n1', 'n3']].map((ids, i) => ({ epoch: i + 1, nodes: ids.map((id, j) => view(id, j + 1)) }));
    const ringAt = (epoch: number) => HashRing.build({ epoch, members: ringMembers(memberships[epoch - 1].nodes) });
    const replicaAt = (epoch: number, hash: ContentHash) => ringAt(epoch).replicasFor(hash, 1)[0].nodeId;
    // Chunks no replica of epoch 2 or 3 names: only n2, where epoch 1 put them, holds them.
    const strandedChunk = (size: number) => {
      const bytes = randomBytes(size);
      for (let i = 0; ; i++) {
        bytes.writeUInt32BE(i, 0);
        const hash = contentHashOf(bytes);
        if (replicaAt(2, hash) !== 'n2' && replicaAt(3, hash) !== 'n2') return { bytes, hash };
      }
    };
    let membership = memberships[0];
    const ring = new StorageRingProvider(async () => membership, async () => ({ epoch: membership.epoch }));
    await ring.ready();
    const failovers: string[] = [];
    const joined = new ChunkClient({
      ring: () => ring.ring(),
      addressOf: (id) => ring.addressOf(id),
      signer,
      underReplication: recorder,
      strategy: regionReplication(1).standard,
      fallbackReadNodes: (hash) => ring.fallbackReadNodes(hash, 1),
      onReadFailover: (e) => failovers.push(e.nodeId),
    });
    try {
      const chunks = [strandedChunk(300 * 1024), strandedChunk(9 * MiB)];
      for (const chunk of chunks) expect((await joined.writeChunk(chunk.bytes)).stored).toEqual(['n2']);
      for (const next of memberships.slice(1)) {
        membership = next;
        await ring.followEpoch();
      }
      expect(ring.epoch).toBe(3);
      for (const chunk of chunks) {
        failovers.length = 0;
        const result = await joined.readChunk(chunk.hash);
        const parts: Buffer[] = [];
        for await (const p of result.stream) parts.push(p as Buffer);
        expect(Buffer.concat(parts).equals(chunk.bytes)).toBe(true);
        expect(result.servedBy).toBe('n2');
        // The replicas of epochs 3 and 2 first (a replica the read fell over from is a repair candidate).
        expect(failovers).toEqual([...new Set([replicaAt(3, chunk.hash), replicaAt(2, chunk.hash)])]);
      }
      // A chunk no node holds is still unavailable, after every member was asked once.
      const missing = contentHashOf(randomBytes(64));
      failovers.length = 0;
      await expect(joined.readChunk(missing)).rejects.toBeInstanceOf(ChunkUnavailableError);
      expect([...failovers].sort()).toEqual(['n1', 'n2', 'n3']);
    } finally {
      await joined.close();
    }
  }, 60_000);

  it('a read that misses everywhere asks for the epoch at once, and finds a chunk a rebalance moved to a node its ring did not know yet', async () => {
    // The sweep copies a chunk to the new ring's replica and trims the old holders as soon as it is
    // copied; a gateway learns the epoch only at its next poll (up to RING_EPOCH_POLL_INTERVAL_MS).
    const view = (nodeId: string): StorageNodeView => ({
      nodeId, zone: `z-${nodeId}`, host: `h-${nodeId}`, address: urls.get(nodeId)!, weight: 1, capacityBytes: 1e12, draining: false, joinedAt: '2026-01-01T00:00:00Z', epoch: 1,
    });
    let membership = { epoch: 2, nodes: [view('n1'), view('n2')] };
    const ring = new StorageRingProvider(async () => membership, async () => ({ epoch: membership.epoch }));
    await ring.ready();
    const onlyN3 = HashRing.build({ epoch: 3, members: [{ nodeId: 'n3', zone: 'z3', host: 'h3', weight: 1 }] });
    const mover = new ChunkClient({ ring: () => onlyN3, addressOf: (id) => urls.get(id)!, signer, underReplication: recorder, strategy: regionReplication(1).standard });
    const failovers: string[] = [];
    const stale = new ChunkClient({
      ring: () => ring.ring(),
      addressOf: (id) => ring.addressOf(id),
      signer,
      underReplication: recorder,
      strategy: regionReplication(1).standard,
      fallbackReadNodes: (hash) => ring.fallbackReadNodes(hash, 1),
      ringMoved: () => ring.ringMoved(),
      onReadFailover: (e) => failovers.push(e.nodeId),
    });
    try {
      const data = randomBytes(200 * 1024);
      const { hash, stored } = await mover.writeChunk(data);
      expect(stored).toEqual(['n3']);
      // The ring has not moved: n1 and n2 miss, and the chunk is unavailable.
      await expect(stale.readChunk(hash)).rejects.toBeInstanceOf(ChunkUnavailableError);
      expect([...failovers].sort()).toEqual(['n1', 'n2']);
      // Epoch 3 names n3; this process has not polled it yet.
      membership = { epoch: 3, nodes: [view('n1'), view('n2'), view('n3')] };
      failovers.length = 0;
      const result = await stale.readChunk(hash);
      const parts: Buffer[] = [];
      for await (const p of result.stream) parts.push(p as Buffer);
      expect(Buffer.concat(parts).equals(data)).toBe(true);
      expect(result.servedBy).toBe('n3');
      expect([...failovers].sort()).toEqual(['n1', 'n2']);
      expect(ring.epoch).toBe(3);
    } finally {
      await Promise.all([mover.close(), stale.close()]);
    }
  }, 60_000);
});

/** A small filesystem needs mount (and root); where it cannot be had, this specification is skipped. */
const canMount = process.getuid?.() === 0 && ['mount', 'umount', 'mkfs.ext4'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

const CHUNKS = 12;
const CHUNK_BYTES = 24 * MiB;

(canMount ? describe : describe.skip)('ChunkClient when one replica runs out of disk space part-way through a chunk (a real 16 MiB ext4 on a loop device)', () => {
  let root: string;
  let full: string;
  let nodes: RunningNode[] = [];

  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-chunk-client-full-'));
    full = path.join(root, 'n3');
    await fsp.mkdir(full);
    const image = path.join(root, 'n3.img');
    execFileSync('truncate', ['-s', String(16 * MiB), image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', image]);
    execFileSync('mount', ['-o', 'loop', image, full]);
    // No reserve on n3: its disk is not refused up front, it fills while a body is written.
    nodes = await Promise.all([startNode('n1', path.join(root, 'n1')), startNode('n2', path.join(root, 'n2')), startNode('n3', full, { CAIRN_STORAGE_RESERVE_BYTES: '0' })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map(stopNode));
    if (full) execFileSync('umount', [full]);
    await fsp.rm(root, { recursive: true, force: true });
  });

  it("stores each chunk on the other two, and records the full node's copy as missed with its 507 STORAGE_FULL, never a reset", async () => {
    const ring = HashRing.build({ epoch: 1, members: nodes.map((n, i) => ({ nodeId: n.nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 })) });
    const recorder = new InMemoryUnderReplicationRecorder();
    const urls = new Map(nodes.map((n) => [n.nodeId, n.url]));
    const client = new ChunkClient({ ring: () => ring, addressOf: (id) => urls.get(id)!, signer, underReplication: recorder, strategy: regionReplication(3).standard });
    try {
      // Each larger than n3's disk: it reads part of the body, then its write fails with ENOSPC. Some
      // given whole, most streamed as they come (sync's transfers), several at once: a streamed
      // sender is still writing when the answer comes.
      const chunks = Array.from({ length: CHUNKS }, () => randomBytes(CHUNK_BYTES));
      const pieces = function* (data: Buffer) {
        for (let at = 0; at < data.length; at += 256 * 1024) yield data.subarray(at, at + 256 * 1024);
      };
      const results = await Promise.all(chunks.map((data, i) => (i % 4 === 0 ? client.writeChunk(data) : client.writeChunk(Readable.from(pieces(data)), { hash: contentHashOf(data) }))));
      for (const [i, written] of results.entries()) {
        expect([...written.stored].sort()).toEqual(['n1', 'n2']);
        expect(written.missed).toEqual([expect.objectContaining({ nodeId: 'n3', reason: expect.stringMatching(/^HTTP 507 STORAGE_FULL: /) })]);
        const read = await client.readChunk(written.hash);
        const parts: Buffer[] = [];
        for await (const p of read.stream) parts.push(p as Buffer);
        expect(Buffer.concat(parts).equals(chunks[i])).toBe(true);
      }
      expect([...recorder.entries].map((e) => e.hash).sort()).toEqual(results.map((r) => r.hash).sort());
      for (const entry of recorder.entries) expect(entry).toMatchObject({ nodeId: 'n3', reason: expect.stringContaining('HTTP 507 STORAGE_FULL') });
    } finally {
      await client.close();
    }
  }, 60_000);
});
