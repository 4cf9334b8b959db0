import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseContentHash } from '@cairn/hashing';
import { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, signedFetch, TEST_NATS_URL, testNamespace } from '@cairn/testing';
import { PACKS_DIR, chunkRelativePath, packFileName } from '../domain/chunk-layout';
import { PACK_RECORD_HEADER_BYTES } from '../domain/pack-record';
import { StorageService } from '../service';
import type { StorageConfig } from '../storage.config';

describe('a storage node as a service', () => {
  const namespace = testNamespace();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cairn-storage-node-'));
  let node: RunningService<StorageConfig>;
  let nats: NatsConnectionManager;

  beforeAll(async () => {
    node = await bootForTest(StorageService, namespace, { CAIRN_DATA_DIR: dataDir });
    nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace, region: 'test', serviceName: 'probe', instance: 'probe' });
    await node.transport.started;
  });
  afterAll(async () => {
    await node.close();
    await nats.close();
    await dropNamespace(namespace);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts stored chunks in /metrics and reports capacity on /health', async () => {
    const body = randomBytes(4096);
    const hash = createHash('sha256').update(body).digest('hex');
    const put = await signedFetch(`${node.url}/chunks/${hash}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status).toBeLessThan(300);

    const metrics = await (await signedFetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^cairn_storage_chunks\{[^}]*\} 1$/m);
    const health = (await (await signedFetch(`${node.url}/health`)).json()) as { details: { disk: { freeBytes: number } } };
    expect(health.details.disk.freeBytes).toBeGreaterThan(0);
  });

  it('publishes a corrupt chunk found on read to CLUSTER for the repair job', async () => {
    const body = randomBytes(256 * 1024);
    const hash = createHash('sha256').update(body).digest('hex');
    await signedFetch(`${node.url}/chunks/${hash}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    const file = path.join(dataDir, chunkRelativePath(parseContentHash(hash)));
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([body[1000] ^ 0xff]), 0, 1, 1000);
    closeSync(fd);

    const read = await signedFetch(`${node.url}/chunks/${hash}`).then(
      async (res) => ({ status: res.status, bytes: await res.arrayBuffer().then((b) => b.byteLength, () => -1) }),
      () => ({ status: 0, bytes: -1 }),
    );
    expect(read.bytes).not.toBe(body.length);

    const store = new JetStreamEventStore(nats, namespace);
    const events = await eventually(async () => {
      const history = await store.read(subjectsFor(namespace).chunkHealth(hash));
      return history.events.length > 0 ? history.events : undefined;
    });
    expect(events[0].envelope).toMatchObject({ type: 'ChunkCorruptionFound', data: { hash, nodeId: node.identity.instance, foundAt: 'read' } });
  });

  it('publishes a corrupt chunk found by a scrub (POST /chunks/verify) the same way', async () => {
    const body = randomBytes(2048);
    const hash = createHash('sha256').update(body).digest('hex');
    await signedFetch(`${node.url}/chunks/${hash}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    const pack = path.join(dataDir, PACKS_DIR, packFileName(1));
    const offset = await recordDataOffset(pack, hash);
    const fd = openSync(pack, 'r+');
    writeSync(fd, Buffer.from([body[5] ^ 0xff]), 0, 1, offset + 5);
    closeSync(fd);

    const verify = (await (await signedFetch(`${node.url}/chunks/verify?limit=4096`, { method: 'POST' })).json()) as { corrupt: string[] };
    expect(verify.corrupt).toEqual([hash]);

    const store = new JetStreamEventStore(nats, namespace);
    const events = await eventually(async () => {
      const history = await store.read(subjectsFor(namespace).chunkHealth(hash));
      return history.events.length > 0 ? history.events : undefined;
    });
    expect(events[0].envelope).toMatchObject({ type: 'ChunkCorruptionFound', data: { hash, nodeId: node.identity.instance, foundAt: 'scrub' } });
  });

  it('answers a malformed verify query with 400 and the storage error shape behind the service pipes and filters', async () => {
    const res = await signedFetch(`${node.url}/chunks/verify?limit=0`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'INVALID_STORAGE_REQUEST', message: expect.stringContaining('limit') });
  });
});

/** Where the data of the chunk's record starts in a pack: the record follows its 48-byte header, which holds the hash. */
async function recordDataOffset(pack: string, hash: string): Promise<number> {
  const bytes = await readFile(pack);
  const at = bytes.indexOf(Buffer.from(hash, 'hex'));
  if (at < 0) throw new Error(`no record of ${hash} in ${pack}`);
  return at - 12 + PACK_RECORD_HEADER_BYTES;
}
