import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { signedRequest as request } from '@cairn/testing';
import {
  CHUNK_MEDIA_TYPE,
  StorageErrorCodes,
  StorageHeaders,
  StoragePaths,
  type ChunkListingReply,
  type PutChunkReply,
  type StorageErrorReply,
  type VerifyChunksReply,
} from '@cairn/protocol';
import { contentHashOf } from '@cairn/hashing';
import { CORRUPT_DIR, PACKS_DIR, chunkRelativePath, packFileName } from '../domain/chunk-layout';
import { PACK_RECORD_HEADER_BYTES } from '../domain/pack-record';
import { startStandaloneDataPlane } from '../testing/standalone-data-plane';
import { RecentCorruptChunksReporter } from './recent-corrupt-chunks.reporter';
import { StorageCapacityService } from './storage-capacity.service';

const KiB = 1024;
/** Packed below 64 KiB, a file at or above it. */
const PACKED_BYTES = 3 * KiB;
const FILE_BYTES = 200 * KiB;
const RACE_ROUNDS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('storage node maintenance over real HTTP and disk: touches, conditional deletes, verify', () => {
  let dataDir: string;
  let app: INestApplication;
  let url: string;

  const start = async () => {
    ({ app, url } = await startStandaloneDataPlane({ dataDir }));
  };
  const put = async (data: Buffer) => {
    const res = await request(url + StoragePaths.chunk(contentHashOf(data)), { method: 'PUT', body: data, headers: { 'content-type': CHUNK_MEDIA_TYPE } });
    return { status: res.statusCode, existedHeader: res.headers[StorageHeaders.ChunkExisted], body: (await res.body.json()) as PutChunkReply };
  };
  const del = async (hash: string, headers: Record<string, string>) => {
    const res = await request(url + StoragePaths.chunk(hash), { method: 'DELETE', headers });
    const text = await res.body.text();
    return { status: res.statusCode, error: text ? (JSON.parse(text) as StorageErrorReply) : null };
  };
  const status = async (hash: string, method: 'GET' | 'HEAD' = 'HEAD') => {
    const res = await request(url + StoragePaths.chunk(hash), { method });
    await res.body.dump();
    return res.statusCode;
  };
  const listDetail = async (): Promise<ChunkListingReply> => {
    const res = await request(url + StoragePaths.chunks({ detail: true }));
    expect(res.statusCode).toBe(200);
    return (await res.body.json()) as ChunkListingReply;
  };
  const touchedAt = async (hash: string) => (await listDetail()).entries?.find((e) => e.hash === hash)?.touchedAtMs;
  const verify = async (params: { after?: string; limit?: number; maxBytes?: number }) => {
    const res = await request(url + StoragePaths.verify(params), { method: 'POST' });
    expect(res.statusCode).toBe(200);
    return (await res.body.json()) as VerifyChunksReply;
  };

  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-storage-maint-'));
    await start();
  });
  afterEach(async () => {
    await app?.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it('lists sizes and touch times with detail=true, in the order of the hashes, for packed and file chunks', async () => {
    const before = Date.now();
    const datas = Array.from({ length: 8 }, (_, i) => randomBytes(i % 2 === 0 ? PACKED_BYTES + i : FILE_BYTES + i));
    for (const d of datas) expect((await put(d)).status).toBe(201);
    const after = Date.now();

    const plain = await request(url + StoragePaths.chunks());
    expect(Object.keys((await plain.body.json()) as object).sort()).toEqual(['hashes', 'nextAfter']);

    const listing = await listDetail();
    const expected = datas.map((d) => ({ hash: contentHashOf(d), sizeBytes: d.length })).sort((a, b) => (a.hash < b.hash ? -1 : 1));
    expect(listing.hashes).toEqual(expected.map((e) => e.hash));
    expect(listing.entries?.map(({ hash, sizeBytes }) => ({ hash, sizeBytes }))).toEqual(expected);
    for (const e of listing.entries ?? []) {
      expect(e.touchedAtMs).toBeGreaterThanOrEqual(before);
      expect(e.touchedAtMs).toBeLessThanOrEqual(after);
    }

    const page = await request(url + StoragePaths.chunks({ after: expected[2].hash, limit: 3, detail: false }));
    expect(await page.body.json()).toEqual({ hashes: expected.slice(3, 6).map((e) => e.hash), nextAfter: expected[5].hash });
    for (const bad of ['yes', '1', '', 'TRUE']) {
      const res = await request(`${url}/chunks?detail=${bad}`);
      expect([bad, res.statusCode]).toEqual([bad, 400]);
      expect(await res.body.json()).toMatchObject({ code: StorageErrorCodes.InvalidRequest, message: expect.stringContaining('detail') });
    }
  });

  it.each([
    ['packed', PACKED_BYTES],
    ['file', FILE_BYTES],
  ])('records a PUT of a %s chunk it holds already as a touch, and keeps the time across a restart', async (kind, sizeBytes) => {
    const data = randomBytes(sizeBytes);
    const hash = contentHashOf(data);
    expect((await put(data)).status).toBe(201);
    const written = (await touchedAt(hash))!;
    await sleep(30);

    const beforeTouch = Date.now();
    const again = await put(data);
    expect(again).toEqual({ status: 200, existedHeader: 'true', body: { hash, sizeBytes, existed: true } });
    const touched = (await touchedAt(hash))!;
    expect(touched).toBeGreaterThan(written);
    expect(touched).toBeGreaterThanOrEqual(beforeTouch);
    expect(touched).toBeLessThanOrEqual(Date.now());
    if (kind === 'file') expect(Math.round((await fsp.stat(path.join(dataDir, chunkRelativePath(hash)))).mtimeMs)).toBe(touched);

    await app.close();
    await sleep(30);
    const restartedAt = Date.now();
    await start();
    // Packed touches live in memory: after a restart the chunk counts as touched at the restart, never earlier.
    expect(await touchedAt(hash)).toBeGreaterThanOrEqual(restartedAt);
  });

  it('deletes under a fencing token only a chunk touched strictly before x-cairn-unless-touched-since', async () => {
    const oldPacked = randomBytes(PACKED_BYTES);
    const oldFile = randomBytes(FILE_BYTES);
    const fresh = randomBytes(PACKED_BYTES);
    for (const d of [oldPacked, oldFile]) await put(d);
    await sleep(20);
    const threshold = Date.now();
    await sleep(5);
    await put(fresh);
    await put(oldFile);
    const token = { [StorageHeaders.FencingToken]: '7', [StorageHeaders.FencingResource]: 'gc' };
    const since = { [StorageHeaders.UnlessTouchedSince]: String(threshold) };

    expect(await del(contentHashOf(oldPacked), { ...token, ...since })).toEqual({ status: 204, error: null });
    expect(await status(contentHashOf(oldPacked), 'GET')).toBe(404);

    for (const recent of [fresh, oldFile]) {
      const refused = await del(contentHashOf(recent), { ...token, ...since });
      expect(refused.status).toBe(409);
      expect(refused.error).toMatchObject({ code: StorageErrorCodes.ChunkRecentlyWritten, details: { hash: contentHashOf(recent), unlessTouchedSinceMs: threshold } });
      expect(await status(contentHashOf(recent), 'GET')).toBe(200);
    }

    const noToken = await del(contentHashOf(fresh), since);
    expect(noToken.status).toBe(400);
    expect(noToken.error).toMatchObject({ code: StorageErrorCodes.FencingTokenMissing });
    const stale = await del(contentHashOf(fresh), { ...token, [StorageHeaders.FencingToken]: '6', [StorageHeaders.UnlessTouchedSince]: String(Date.now() + 60_000) });
    expect(stale.status).toBe(409);
    expect(stale.error).toMatchObject({ code: StorageErrorCodes.FencingTokenStale });
    for (const bad of ['soon', '-5', '1.5', '']) {
      const malformed = await del(contentHashOf(fresh), { ...token, [StorageHeaders.UnlessTouchedSince]: bad });
      expect([bad, malformed.status]).toEqual([bad, 400]);
      expect(malformed.error).toMatchObject({ code: StorageErrorCodes.InvalidRequest });
    }
    expect(await status(contentHashOf(fresh))).toBe(200);

    expect((await del(contentHashOf(fresh), { ...token, [StorageHeaders.UnlessTouchedSince]: String(Date.now() + 1) })).status).toBe(204);
    expect((await del(contentHashOf(fresh), { ...token, ...since })).status).toBe(404);
  });

  it(`keeps every chunk a racing PUT answered for, over ${RACE_ROUNDS} rounds of PUT against conditional DELETE`, async () => {
    const datas = [randomBytes(PACKED_BYTES), randomBytes(FILE_BYTES)];
    for (const d of datas) await put(d);
    const outcomes = { refused: 0, deletedThenWritten: 0 };
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const data = datas[round % 2];
      const hash = contentHashOf(data);
      // The chunk's last touch is now strictly before the threshold: only the racing PUT can save it.
      await sleep(2);
      const threshold = Date.now();
      const deleting = () =>
        del(hash, { [StorageHeaders.FencingToken]: '1', [StorageHeaders.FencingResource]: 'gc', [StorageHeaders.UnlessTouchedSince]: String(threshold) });
      const putting = () => put(data);
      const [p, d] =
        round % 4 < 2 ? await Promise.all([putting(), deleting()]) : await Promise.all([deleting(), putting()]).then(([dd, pp]) => [pp, dd] as const);

      expect([round, p.status]).toEqual([round, p.body.existed ? 200 : 201]);
      // Serial in one order or the other: PUT then refused DELETE, or DELETE then a PUT that writes anew.
      if (d.status === 409) {
        expect([round, d.error?.code, p.body.existed]).toEqual([round, StorageErrorCodes.ChunkRecentlyWritten, true]);
        outcomes.refused++;
      } else {
        expect([round, d.status, p.body.existed]).toEqual([round, 204, false]);
        outcomes.deletedThenWritten++;
      }
      expect([round, await status(hash)]).toEqual([round, 200]);
    }
    expect(outcomes.refused + outcomes.deletedThenWritten).toBe(RACE_ROUNDS);
    // Both orders happen, or the test proves little.
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.deletedThenWritten).toBeGreaterThan(0);
  }, 120_000);

  it('verifies the whole store in pages, bounded by limit and by bytes, in hash order', async () => {
    const datas = Array.from({ length: 23 }, (_, i) => randomBytes(i % 3 === 0 ? FILE_BYTES + i : PACKED_BYTES + i));
    for (const d of datas) await put(d);
    const all = datas.map((d) => contentHashOf(d)).sort();
    const totalBytes = datas.reduce((n, d) => n + d.length, 0);

    const walk = async (params: { limit?: number; maxBytes?: number }) => {
      const pages: VerifyChunksReply[] = [];
      let after = '';
      for (let calls = 0; calls <= all.length; calls++) {
        const page = await verify({ ...params, after });
        pages.push(page);
        expect(page.corrupt).toEqual([]);
        expect(page.missing).toEqual([]);
        if (page.nextAfter === null) return pages;
        expect(page.nextAfter > after).toBe(true);
        after = page.nextAfter;
      }
      throw new Error('verify never reached the end');
    };

    const byLimit = await walk({ limit: 5 });
    expect(byLimit.map((p) => p.verifiedCount)).toEqual([5, 5, 5, 5, 3]);
    expect(byLimit.map((p) => p.nextAfter)).toEqual([all[4], all[9], all[14], all[19], null]);
    expect(byLimit.reduce((n, p) => n + p.verifiedBytes, 0)).toBe(totalBytes);

    // A budget below any chunk still verifies one chunk per call.
    const byBytes = await walk({ maxBytes: 1 });
    expect(byBytes.map((p) => p.verifiedCount)).toEqual(all.map(() => 1));
    expect(byBytes.map((p) => p.nextAfter)).toEqual([...all.slice(0, -1), null]);

    const budget = FILE_BYTES + 4 * PACKED_BYTES;
    const byBudget = await walk({ maxBytes: budget });
    for (const p of byBudget) expect(p.verifiedCount === 1 || p.verifiedBytes <= budget).toBe(true);
    expect(byBudget.reduce((n, p) => n + p.verifiedCount, 0)).toBe(all.length);

    const whole = await verify({});
    expect(whole).toEqual({ verifiedCount: all.length, verifiedBytes: totalBytes, corrupt: [], missing: [], nextAfter: null });
  });

  it('finds a byte flipped in a chunk file and in a pack record, quarantines and reports both, and takes the good bytes back', async () => {
    const packed = randomBytes(PACKED_BYTES);
    const file = randomBytes(FILE_BYTES);
    const good = Array.from({ length: 6 }, (_, i) => randomBytes(i % 2 === 0 ? PACKED_BYTES : FILE_BYTES));
    // The packed chunk first, so that its record starts the first pack.
    for (const d of [packed, file, ...good]) await put(d);
    const [packedHash, fileHash] = [contentHashOf(packed), contentHashOf(file)];
    await flipByte(path.join(dataDir, PACKS_DIR, packFileName(1)), PACK_RECORD_HEADER_BYTES + 100);
    await flipByte(path.join(dataDir, chunkRelativePath(fileHash)), FILE_BYTES - 1);

    const corrupt: string[] = [];
    let after = '';
    let verifiedCount = 0;
    for (;;) {
      const page = await verify({ after, limit: 3 });
      corrupt.push(...page.corrupt);
      verifiedCount += page.verifiedCount;
      if (page.nextAfter === null) break;
      after = page.nextAfter;
    }
    expect(verifiedCount).toBe(8);
    expect(corrupt.sort()).toEqual([packedHash, fileHash].sort());

    for (const hash of [packedHash, fileHash]) {
      expect(await status(hash, 'GET')).toBe(404);
      expect(await status(hash)).toBe(404);
    }
    const moved = await fsp.readdir(path.join(dataDir, CORRUPT_DIR));
    for (const hash of [packedHash, fileHash]) expect(moved.some((name) => name.startsWith(hash))).toBe(true);
    const reports = app.get(RecentCorruptChunksReporter).recent();
    expect(reports.map((r) => [r.hash, r.foundAt]).sort()).toEqual([[packedHash, 'scrub'], [fileHash, 'scrub']].sort());
    expect((await app.get(StorageCapacityService).snapshot()).corruptChunksFound).toBe(2);
    expect((await verify({})).verifiedCount).toBe(6);

    for (const d of [packed, file]) expect((await put(d)).body).toMatchObject({ existed: false });
    for (const d of [packed, file]) {
      const res = await request(url + StoragePaths.chunk(contentHashOf(d)));
      expect(Buffer.from(await res.body.arrayBuffer()).equals(d)).toBe(true);
    }
    expect(await verify({})).toMatchObject({ verifiedCount: 8, corrupt: [], missing: [], nextAfter: null });
  });

  it('answers a malformed verify query with 400 and the JSON error shape', async () => {
    await put(randomBytes(PACKED_BYTES));
    const queries = [
      'limit=0',
      'limit=4097',
      'limit=ten',
      'limit=1.5',
      'maxBytes=0',
      `maxBytes=${1024 * 1024 * 1024 + 1}`,
      'maxBytes=-1',
      'after=XYZ',
      `after=${'a'.repeat(65)}`,
      'after=a&after=b',
      'unknown=1',
    ];
    for (const query of queries) {
      const res = await request(`${url}/chunks/verify?${query}`, { method: 'POST' });
      expect([query, res.statusCode]).toEqual([query, 400]);
      const body = (await res.body.json()) as StorageErrorReply;
      expect([query, body.code, typeof body.message]).toEqual([query, StorageErrorCodes.InvalidRequest, 'string']);
    }
    expect((await verify({ after: '', limit: 4096, maxBytes: 1024 * 1024 * 1024 })).verifiedCount).toBe(1);
  });
});

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, offset);
    byte[0] ^= 0xff;
    await fh.write(byte, 0, 1, offset);
  } finally {
    await fh.close();
  }
}
