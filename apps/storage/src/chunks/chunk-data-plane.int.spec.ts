import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { request as unsignedRequest } from 'undici';
import { signedRequest as request, testClusterCredentials, testOperatorToken } from '@cairn/testing';
import { contentHashOf, type ContentHash } from '@cairn/hashing';
import { CHUNK_MAINTENANCE_FENCING_RESOURCE, ClusterKeys, FENCING_RESOURCE_MAX_LENGTH, StorageHeaders } from '@cairn/protocol';
import { ClusterCredentials } from '@cairn/service-kit';
import { chunkRelativePath, CORRUPT_DIR, FENCING_TOKEN_FILE, PACKS_DIR, TEMP_DIR, WHOLE_READS_IN_FLIGHT_MAX, packFileName } from '../domain/chunk-layout';
import { PACK_RECORD_HEADER_BYTES } from '../domain/pack-record';
import { startStandaloneDataPlane } from '../testing/standalone-data-plane';
import { StorageCapacityService } from './storage-capacity.service';

const MiB = 1024 * 1024;
const OCTETS = { 'content-type': 'application/octet-stream' };

/** Deterministic 1 MiB blocks, so a 100 MiB chunk is streamed, never held whole. */
function* blocks(totalBytes: number, seed: Buffer): Generator<Buffer> {
  for (let i = 0, sent = 0; sent < totalBytes; i++) {
    const block = Buffer.from(seed);
    block.writeUInt32BE(i, 0);
    const piece = block.subarray(0, Math.min(MiB, totalBytes - sent));
    sent += piece.length;
    yield piece;
  }
}

function hashOfBlocks(totalBytes: number, seed: Buffer): ContentHash {
  const h = createHash('sha256');
  for (const b of blocks(totalBytes, seed)) h.update(b);
  return h.digest('hex') as ContentHash;
}

async function drainHashing(body: AsyncIterable<Buffer>): Promise<{ hash: string; sizeBytes: number }> {
  const h = createHash('sha256');
  let sizeBytes = 0;
  for await (const piece of body) {
    h.update(piece);
    sizeBytes += piece.length;
  }
  return { hash: h.digest('hex'), sizeBytes };
}

describe('storage data plane over real HTTP and disk', () => {
  let dataDir: string;
  let app: INestApplication;
  let url: string;

  const start = async () => {
    ({ app, url } = await startStandaloneDataPlane({ dataDir }));
  };
  const put = (hash: string, body: Buffer | Iterable<Buffer>) => request(`${url}/chunks/${hash}`, { method: 'PUT', body: Buffer.isBuffer(body) ? body : Readable.from(body), headers: OCTETS });
  const get = (hash: string, headers: Record<string, string> = {}) => request(`${url}/chunks/${hash}`, { headers });
  const tempFiles = () => fsp.readdir(path.join(dataDir, TEMP_DIR));

  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-storage-'));
    await start();
  });
  afterEach(async () => {
    await app?.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['0 B', 0],
    ['1 B', 1],
    ['8 MiB', 8 * MiB],
    ['100 MiB', 100 * MiB],
  ])('round-trips a %s chunk, streaming', async (_label, sizeBytes) => {
    const seed = randomBytes(MiB);
    const hash = hashOfBlocks(sizeBytes, seed);
    const res = await put(hash, blocks(sizeBytes, seed));
    expect(res.statusCode).toBe(201);
    expect(await res.body.json()).toEqual({ hash, sizeBytes, existed: false });

    const back = await get(hash);
    expect(back.statusCode).toBe(200);
    expect(back.headers['content-length']).toBe(String(sizeBytes));
    expect(await drainHashing(back.body)).toEqual({ hash, sizeBytes });

    const head = await request(`${url}/chunks/${hash}`, { method: 'HEAD' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(sizeBytes));
    await head.body.dump();

    const again = await put(hash, blocks(sizeBytes, seed));
    expect(again.statusCode).toBe(200);
    expect(await again.body.json()).toMatchObject({ existed: true });
    expect(await tempFiles()).toEqual([]);
  }, 120_000);

  it('serves ranges at the edges, with 206 and 416', async () => {
    for (const sizeBytes of [1_000, 200 * 1024]) {
      const data = randomBytes(sizeBytes);
      const hash = contentHashOf(data);
      await (await put(hash, data)).body.dump();
      const cases: [string, number, number][] = [
        ['bytes=0-0', 0, 1],
        [`bytes=${sizeBytes - 1}-`, sizeBytes - 1, sizeBytes],
        ['bytes=-1', sizeBytes - 1, sizeBytes],
        [`bytes=0-${sizeBytes - 1}`, 0, sizeBytes],
        [`bytes=${sizeBytes - 10}-${sizeBytes + 100}`, sizeBytes - 10, sizeBytes],
        [`bytes=-${sizeBytes * 2}`, 0, sizeBytes],
        ['bytes=100-199', 100, 200],
      ];
      for (const [range, start, end] of cases) {
        const res = await get(hash, { range });
        expect([range, res.statusCode]).toEqual([range, 206]);
        expect(res.headers['content-range']).toBe(`bytes ${start}-${end - 1}/${sizeBytes}`);
        expect(Buffer.from(await res.body.arrayBuffer()).equals(data.subarray(start, end))).toBe(true);
      }
      for (const range of [`bytes=${sizeBytes}-`, `bytes=${sizeBytes + 5}-${sizeBytes + 9}`, 'bytes=-0']) {
        const res = await get(hash, { range });
        expect([range, res.statusCode]).toEqual([range, 416]);
        expect(res.headers['content-range']).toBe(`bytes */${sizeBytes}`);
        await res.body.dump();
      }
    }
    const empty = contentHashOf(Buffer.alloc(0));
    await (await put(empty, Buffer.alloc(0))).body.dump();
    const res = await get(empty, { range: 'bytes=0-0' });
    expect(res.statusCode).toBe(416);
    await res.body.dump();
  });

  it.each([
    ['small (packed)', 1_000],
    ['large (file)', 3 * MiB],
  ])('refuses a %s body whose hash is not its name, keeping nothing', async (_label, sizeBytes) => {
    const data = randomBytes(sizeBytes);
    const wrong = contentHashOf(Buffer.concat([data, Buffer.from('x')]));
    const res = await put(wrong, data);
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toMatchObject({ code: 'CHUNK_HASH_MISMATCH' });
    const head = await request(`${url}/chunks/${wrong}`, { method: 'HEAD' });
    expect(head.statusCode).toBe(404);
    await head.body.dump();
    await expect(fsp.stat(path.join(dataDir, chunkRelativePath(wrong)))).rejects.toThrow(/ENOENT/);
    expect(await tempFiles()).toEqual([]);
    expect((await app.get(StorageCapacityService).snapshot()).chunkCount).toBe(0);
  });

  it('refuses malformed names and foreign media types', async () => {
    const bad = await put('ABC', Buffer.from('x'));
    expect(bad.statusCode).toBe(400);
    expect(await bad.body.json()).toMatchObject({ code: 'INVALID_CHUNK_HASH' });
    const data = Buffer.from('{"a":1}');
    const json = await request(`${url}/chunks/${contentHashOf(data)}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/json' } });
    expect(json.statusCode).toBe(415);
    await json.body.dump();
  });

  it('leaves no file behind when the client disconnects mid-body', async () => {
    const sizeBytes = 16 * MiB;
    const seed = randomBytes(MiB);
    const hash = hashOfBlocks(sizeBytes, seed);
    const { port } = new URL(url);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/chunks/${hash}`, headers: { ...OCTETS, 'content-length': String(sizeBytes) } });
      req.on('error', () => resolve());
      const it = blocks(sizeBytes, seed);
      // Half the body, then the connection dies.
      for (let i = 0; i < 8; i++) req.write(it.next().value);
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await waitFor(async () => (await tempFiles()).length === 0 && (await listAll()).length === 0);
    const head = await request(`${url}/chunks/${hash}`, { method: 'HEAD' });
    expect(head.statusCode).toBe(404);
    await head.body.dump();
    await expect(fsp.stat(path.join(dataDir, chunkRelativePath(hash)))).rejects.toThrow(/ENOENT/);
  });

  it('serves more concurrent whole reads than it lends buffers (the rest stream), each with its own bytes, and reuses buffers after', async () => {
    const chunks = Array.from({ length: 2 * WHOLE_READS_IN_FLIGHT_MAX + 1 }, (_, i) => randomBytes(MiB + i));
    for (const c of chunks) await (await put(contentHashOf(c), c)).body.dump();
    for (let round = 0; round < 2; round++) {
      const read = await Promise.all(
        chunks.map(async (c, i) => {
          const res = await get(contentHashOf(c), i % 2 === 0 ? {} : { range: 'bytes=100-' });
          return drainHashing(res.body);
        }),
      );
      read.forEach((r, i) => {
        const expected = i % 2 === 0 ? chunks[i] : chunks[i].subarray(100);
        expect(r).toEqual({ hash: createHash('sha256').update(expected).digest('hex'), sizeBytes: expected.length });
      });
    }
  });

  it('detects a byte flipped on disk in a chunk file: the response fails and the chunk is moved aside', async () => {
    const data = randomBytes(3 * MiB);
    const hash = contentHashOf(data);
    await (await put(hash, data)).body.dump();
    const file = path.join(dataDir, chunkRelativePath(hash));
    const fh = await fsp.open(file, 'r+');
    await fh.write(Buffer.from([data[2 * MiB] ^ 0xff]), 0, 1, 2 * MiB);
    await fh.close();

    await expect(get(hash, { range: 'bytes=0-99' }).then((res) => drainHashing(res.body))).rejects.toThrow();
    await expectQuarantined(hash);
  });

  it('leaves the hash of a whole read to a reader that verifies, and checks it again when asked without', async () => {
    const data = randomBytes(3 * MiB);
    const hash = contentHashOf(data);
    await (await put(hash, data)).body.dump();
    const file = path.join(dataDir, chunkRelativePath(hash));
    const fh = await fsp.open(file, 'r+');
    await fh.write(Buffer.from([data[MiB] ^ 0x01]), 0, 1, MiB);
    await fh.close();
    const readerVerifies = { [StorageHeaders.ReaderVerifies]: 'true' };

    // The bytes as they are on disk: the reader's own check is what finds them wrong.
    const sent = await drainHashing((await get(hash, readerVerifies)).body);
    expect(sent.sizeBytes).toBe(data.length);
    expect(sent.hash).not.toBe(hash);
    expect(await fsp.readdir(path.join(dataDir, CORRUPT_DIR))).toEqual([]);
    // A range is checked by the node whatever the reader says.
    await expect(get(hash, { ...readerVerifies, range: 'bytes=0-99' }).then((res) => drainHashing(res.body))).rejects.toThrow();
    await expectQuarantined(hash);
  });

  it('detects a byte flipped on disk in a packed chunk', async () => {
    const data = randomBytes(4096);
    const hash = contentHashOf(data);
    await (await put(hash, data)).body.dump();
    const pack = path.join(dataDir, PACKS_DIR, packFileName(1));
    const fh = await fsp.open(pack, 'r+');
    await fh.write(Buffer.from([data[10] ^ 0x01]), 0, 1, PACK_RECORD_HEADER_BYTES + 10);
    await fh.close();

    await expect(get(hash).then((res) => drainHashing(res.body))).rejects.toThrow();
    await expectQuarantined(hash);
  });

  it('shares one fsync among small writes that arrive together, and recovers packs with a torn tail', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => randomBytes(100 + i * 50));
    const results = await Promise.all(chunks.map(async (c) => (await put(contentHashOf(c), c)).statusCode));
    expect(results.every((s) => s === 201)).toBe(true);
    const usage = await app.get(StorageCapacityService).snapshot();
    expect(usage.packRecordsCommitted).toBe(40);
    expect(usage.packGroupCommits).toBeLessThan(40);
    expect(usage.packedChunkCount).toBe(40);

    await app.close();
    const pack = path.join(dataDir, PACKS_DIR, packFileName(1));
    const goodBytes = (await fsp.stat(pack)).size;
    // A crash in the middle of an append: a header and part of the data of a record never acked.
    const torn = Buffer.alloc(PACK_RECORD_HEADER_BYTES + 500, 7);
    torn.writeUInt32BE(0x43504b31, 0);
    await fsp.appendFile(pack, torn.subarray(0, PACK_RECORD_HEADER_BYTES + 200));
    await start();

    expect((await fsp.stat(pack)).size).toBe(goodBytes);
    for (const c of chunks) {
      const res = await get(contentHashOf(c));
      expect(res.statusCode).toBe(200);
      expect(Buffer.from(await res.body.arrayBuffer()).equals(c)).toBe(true);
    }
    const late = randomBytes(777);
    expect((await put(contentHashOf(late), late)).statusCode).toBe(201);
    await app.close();
    await start();
    const back = await get(contentHashOf(late));
    expect(Buffer.from(await back.body.arrayBuffer()).equals(late)).toBe(true);
  });

  it('lists by prefix, after and limit, across files and packs', async () => {
    const hashes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const data = randomBytes(i % 2 === 0 ? 100 : 70 * 1024);
      hashes.push(contentHashOf(data));
      await (await put(contentHashOf(data), data)).body.dump();
    }
    hashes.sort();
    expect(await listAll(5)).toEqual(hashes);
    const prefix = hashes[3].slice(0, 1);
    const res = await request(`${url}/chunks?prefix=${prefix}`);
    expect((await res.body.json()) as object).toEqual({ hashes: hashes.filter((h) => h.startsWith(prefix)), nextAfter: null });
    const badLimit = await request(`${url}/chunks?limit=0`);
    expect(badLimit.statusCode).toBe(400);
    await badLimit.body.dump();
  });

  it('deletes only with a fencing token no older than the newest it has seen for the same resource, and remembers each across restarts', async () => {
    const datas = [randomBytes(100), randomBytes(100 * 1024), randomBytes(50), randomBytes(60)];
    for (const d of datas) await (await put(contentHashOf(d), d)).body.dump();
    const del = async (d: Buffer, headers: Record<string, string>) => {
      const res = await request(`${url}/chunks/${contentHashOf(d)}`, { method: 'DELETE', headers });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? (JSON.parse(text) as { code: string; message: string; details?: object }) : null };
    };
    const fenced = (resource: string, token: string) => ({ [StorageHeaders.FencingResource]: resource, [StorageHeaders.FencingToken]: token });

    expect(await del(datas[0], {})).toMatchObject({ status: 400, body: { code: 'FENCING_TOKEN_MISSING' } });
    expect(await del(datas[0], { [StorageHeaders.FencingToken]: '5' })).toMatchObject({
      status: 400,
      body: { code: 'FENCING_RESOURCE_MISSING', message: expect.stringContaining(StorageHeaders.FencingResource) },
    });
    for (const bad of ['', 'a b', 'a;b', 'x'.repeat(FENCING_RESOURCE_MAX_LENGTH + 1)]) {
      const res = await del(datas[0], fenced(bad, '5'));
      expect([bad.slice(0, 10), res]).toMatchObject([bad.slice(0, 10), { status: 400, body: { code: 'INVALID_STORAGE_REQUEST' } }]);
    }
    const untouched = await get(contentHashOf(datas[0]));
    expect(untouched.statusCode).toBe(200);
    await untouched.body.dump();

    // A huge token under one resource fences that resource only.
    expect(await del(datas[0], fenced('scheduler/other-lease', '999999999999999'))).toEqual({ status: 204, body: null });
    expect(await del(datas[1], fenced('gc', '5'))).toEqual({ status: 204, body: null });
    expect(await del(datas[2], fenced('gc', '4'))).toMatchObject({ status: 409, body: { code: 'FENCING_TOKEN_STALE', details: { resource: 'gc', token: 4, highestSeen: 5 } } });
    expect(await del(datas[2], fenced('scheduler/other-lease', '5'))).toMatchObject({ status: 409, body: { code: 'FENCING_TOKEN_STALE' } });
    expect(await del(datas[1], fenced('gc', '6'))).toMatchObject({ status: 404, body: { code: 'NO_SUCH_CHUNK' } });

    await app.close();
    await start();
    expect(await del(datas[2], fenced('gc', '5'))).toMatchObject({ status: 409, body: { details: { highestSeen: 6 } } });
    expect(await del(datas[2], fenced('scheduler/other-lease', '999999999999998'))).toMatchObject({ status: 409 });
    expect(await del(datas[2], fenced('rebalance', '1'))).toEqual({ status: 204, body: null });
    for (const [d, status] of [[datas[0], 404], [datas[1], 404], [datas[2], 404], [datas[3], 200]] as const) {
      const res = await get(contentHashOf(d));
      expect(res.statusCode).toBe(status);
      await res.body.dump();
    }
    expect(JSON.parse(await fsp.readFile(path.join(dataDir, FENCING_TOKEN_FILE), 'utf8'))).toEqual({
      schemaVersion: 2,
      resources: [
        { resource: 'gc', highestToken: 6 },
        { resource: 'rebalance', highestToken: 1 },
        { resource: 'scheduler/other-lease', highestToken: 999999999999999 },
      ],
    });
  });

  it('takes only requests signed with the cluster secret: unsigned, forged, replayed or altered ones change nothing', async () => {
    const data = randomBytes(500);
    const hash = contentHashOf(data);
    const chunkPath = `/chunks/${hash}`;
    await (await put(hash, data)).body.dump();
    const status = async (res: Awaited<ReturnType<typeof unsignedRequest>>) => {
      await res.body.dump();
      return res.statusCode;
    };
    const fence = { [StorageHeaders.FencingResource]: 'scheduler/gc', [StorageHeaders.FencingToken]: '999999999999' };
    // No credential at all: no delete, no write, no read, no poisoning of the fencing token.
    expect(await status(await unsignedRequest(`${url}${chunkPath}`, { method: 'DELETE', headers: fence }))).toBe(401);
    expect(await status(await unsignedRequest(`${url}/chunks/${contentHashOf(Buffer.from('x'))}`, { method: 'PUT', body: 'x', headers: OCTETS }))).toBe(401);
    expect(await status(await unsignedRequest(`${url}${chunkPath}`))).toBe(401);
    expect(await status(await unsignedRequest(`${url}/chunks`))).toBe(401);
    // Signed with another cluster's secret.
    const stranger = new ClusterCredentials(new ClusterKeys('some-other-cluster-secret-entirely-000000'), 'scheduler/evil', 30_000);
    expect(await status(await unsignedRequest(`${url}${chunkPath}`, { method: 'DELETE', headers: { ...fence, ...stranger.signHttp({ method: 'DELETE', pathAndQuery: chunkPath, headers: fence }) } }))).toBe(401);
    // A genuine signature, with the fencing token raised after signing, then replayed as signed.
    const credentials = testClusterCredentials('scheduler/scheduler-1');
    const low = { [StorageHeaders.FencingResource]: 'scheduler/gc', [StorageHeaders.FencingToken]: '1' };
    const signed = { ...low, ...credentials.signHttp({ method: 'DELETE', pathAndQuery: chunkPath, headers: low }) };
    expect(await status(await unsignedRequest(`${url}${chunkPath}`, { method: 'DELETE', headers: { ...signed, ...fence } }))).toBe(401);
    // An operator token is for the admin APIs, not the data plane.
    expect(await status(await unsignedRequest(`${url}${chunkPath}`, { headers: { authorization: `Bearer ${testOperatorToken('admin')}` } }))).toBe(403);
    expect(await status(await get(hash))).toBe(200);
    expect(await status(await unsignedRequest(`${url}${chunkPath}`, { method: 'DELETE', headers: signed }))).toBe(204);
    expect(await status(await unsignedRequest(`${url}${chunkPath}`, { method: 'DELETE', headers: signed }))).toBe(401);
    // Nothing the refused requests carried reached the fencing file.
    expect(JSON.parse(await fsp.readFile(path.join(dataDir, FENCING_TOKEN_FILE), 'utf8'))).toEqual({ schemaVersion: 2, resources: [{ resource: 'scheduler/gc', highestToken: 1 }] });
  });

  it('upgrades a v1 fencing file: its one token keeps guarding the chunk-maintenance lease, other resources start afresh', async () => {
    const datas = [randomBytes(100), randomBytes(200), randomBytes(300)];
    for (const d of datas) await (await put(contentHashOf(d), d)).body.dump();
    await app.close();
    await fsp.writeFile(path.join(dataDir, FENCING_TOKEN_FILE), JSON.stringify({ schemaVersion: 1, highestToken: 9 }));
    await start();
    const del = (d: Buffer, resource: string, token: number) =>
      request(`${url}/chunks/${contentHashOf(d)}`, { method: 'DELETE', headers: { [StorageHeaders.FencingResource]: resource, [StorageHeaders.FencingToken]: String(token) } });
    const stale = await del(datas[0], CHUNK_MAINTENANCE_FENCING_RESOURCE, 8);
    expect(stale.statusCode).toBe(409);
    expect(await stale.body.json()).toMatchObject({ code: 'FENCING_TOKEN_STALE', details: { highestSeen: 9 } });
    for (const [d, resource, token] of [[datas[0], CHUNK_MAINTENANCE_FENCING_RESOURCE, 9], [datas[1], 'rebalance', 1]] as const) {
      const res = await del(d, resource, token);
      expect(res.statusCode).toBe(204);
      await res.body.dump();
    }
    const kept = await get(contentHashOf(datas[2]));
    expect(kept.statusCode).toBe(200);
    await kept.body.dump();
    // Written in the current format with the first newer token, the upgraded guard kept.
    expect(JSON.parse(await fsp.readFile(path.join(dataDir, FENCING_TOKEN_FILE), 'utf8'))).toEqual({
      schemaVersion: 2,
      resources: [
        { resource: 'rebalance', highestToken: 1 },
        { resource: CHUNK_MAINTENANCE_FENCING_RESOURCE, highestToken: 9 },
      ],
    });
  });

  it('reports capacity and usage', async () => {
    await (await put(contentHashOf(randomBytes(10)), randomBytes(10))).body.dump();
    const big = randomBytes(MiB);
    await (await put(contentHashOf(big), big)).body.dump();
    const usage = await app.get(StorageCapacityService).snapshot();
    expect(usage.chunkCount).toBe(1);
    expect(usage.chunkBytes).toBe(MiB);
    expect(usage.capacityBytes).toBeGreaterThan(usage.freeBytes);
    expect(usage.freeBytes).toBeGreaterThan(0);
  });

  async function listAll(limit = 1000): Promise<string[]> {
    const all: string[] = [];
    let after = '';
    for (;;) {
      const res = await request(`${url}/chunks?limit=${limit}&after=${after}`);
      const page = (await res.body.json()) as { hashes: string[]; nextAfter: string | null };
      expect(page.hashes.length).toBeLessThanOrEqual(limit);
      all.push(...page.hashes);
      if (!page.nextAfter) return all;
      after = page.nextAfter;
    }
  }

  async function expectQuarantined(hash: ContentHash): Promise<void> {
    const head = await request(`${url}/chunks/${hash}`, { method: 'HEAD' });
    expect(head.statusCode).toBe(404);
    await head.body.dump();
    const moved = await fsp.readdir(path.join(dataDir, CORRUPT_DIR));
    expect(moved.some((name) => name.startsWith(hash))).toBe(true);
    expect((await app.get(StorageCapacityService).snapshot()).corruptChunksFound).toBe(1);
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
