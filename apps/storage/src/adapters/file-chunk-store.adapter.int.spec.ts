import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentHashOf, type ContentHash } from '@cairn/hashing';
import { DIRECT_WRITE_BLOCK_BYTES, WHOLE_READ_PIECE_BYTES, chunkRelativePath } from '../domain/chunk-layout';
import { processDirectWriteBlocks } from './chunk-file-writer';
import { FileChunkStore } from './file-chunk-store.adapter';

const KiB = 1024;

/** A body that sends its first half, then waits until `release()` before sending the rest. */
function pausedBody(data: Buffer): { body: AsyncIterable<Uint8Array>; halfSent: Promise<void>; release: () => void } {
  let release!: () => void;
  let markHalfSent!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const halfSent = new Promise<void>((resolve) => (markHalfSent = resolve));
  async function* body(): AsyncGenerator<Uint8Array> {
    const half = Math.floor(data.length / 2);
    yield data.subarray(0, half);
    markHalfSent();
    await released;
    yield data.subarray(half);
  }
  return { body: body(), halfSent, release };
}

async function* once(data: Buffer): AsyncGenerator<Uint8Array> {
  yield data;
}

/** The body in pieces of `pieceBytes` (as an HTTP server hands them over), then, optionally, a failure. */
async function* inPieces(data: Buffer, pieceBytes: number, failAfterBytes?: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += pieceBytes) {
    if (failAfterBytes !== undefined && at >= failAfterBytes) throw new Error('client went away');
    yield data.subarray(at, Math.min(at + pieceBytes, data.length));
  }
}

/** Resolves to 'pending' if `promise` has not settled within a few turns of the event loop and some I/O. */
async function stateOf(promise: Promise<unknown>, waitMs = 50): Promise<'pending' | 'settled'> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  return settled ? 'settled' : 'pending';
}

describe('FileChunkStore touches and conditional deletes (real disk)', () => {
  let dataDir: string;
  let store: FileChunkStore;
  let clockMs: number;
  const open = async () => {
    store = await FileChunkStore.open({ dataDir, nowMs: () => clockMs });
  };

  beforeEach(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-chunk-store-'));
    clockMs = 1_000_000;
    await open();
  });
  afterEach(async () => {
    await store.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['packed', 4 * KiB],
    ['file', 256 * KiB],
  ])('a delete waits for a PUT of a %s chunk it holds already, then refuses since the PUT touched it', async (_label, sizeBytes) => {
    const data = randomBytes(sizeBytes);
    const hash = contentHashOf(data);
    await store.put(hash, once(data), null);
    clockMs += 10_000;
    const paused = pausedBody(data);
    const put = store.put(hash, paused.body, null);
    await paused.halfSent;
    clockMs += 1;
    const del = store.delete(hash, { unlessTouchedSinceMs: clockMs });
    expect(await stateOf(del)).toBe('pending');
    paused.release();
    expect(await put).toMatchObject({ existed: true });
    expect(await del).toBe('recently-touched');
    expect(await store.sizeOf(hash)).toBe(sizeBytes);
  });

  it.each([
    ['packed', 4 * KiB],
    ['file', 256 * KiB],
  ])('a PUT of a %s chunk that comes after a delete writes it anew', async (_label, sizeBytes) => {
    const data = randomBytes(sizeBytes);
    const hash = contentHashOf(data);
    await store.put(hash, once(data), null);
    clockMs += 10_000;
    expect(await store.delete(hash, { unlessTouchedSinceMs: clockMs })).toBe('deleted');
    expect(await store.put(hash, once(data), null)).toMatchObject({ existed: false });
    expect(await store.sizeOf(hash)).toBe(sizeBytes);
    expect(await store.delete(hash, { unlessTouchedSinceMs: clockMs })).toBe('recently-touched');
    expect(await store.delete(contentHashOf(randomBytes(8)), { unlessTouchedSinceMs: clockMs })).toBe('absent');
  });

  it('a wrong body for a chunk held already does not count as a touch', async () => {
    const data = randomBytes(4 * KiB);
    const hash = contentHashOf(data);
    await store.put(hash, once(data), null);
    clockMs += 10_000;
    await expect(store.put(hash, once(randomBytes(4 * KiB)), null)).rejects.toThrow(/hashes to/);
    expect(await store.delete(hash, { unlessTouchedSinceMs: clockMs })).toBe('deleted');
  });

  it('records write and touch times, and after a restart no chunk looks older than the restart', async () => {
    const small = randomBytes(100);
    const large = randomBytes(100 * KiB);
    clockMs = 2_000_000;
    await store.put(contentHashOf(small), once(small), null);
    await store.put(contentHashOf(large), once(large), null);
    const times = async () => {
      const listing = await store.list({ prefix: '', after: null, limit: 10, detail: true });
      return Object.fromEntries((listing.entries ?? []).map((e) => [e.hash, e.touchedAtMs]));
    };
    expect(await times()).toEqual({ [contentHashOf(small)]: 2_000_000, [contentHashOf(large)]: 2_000_000 });
    expect((await fsp.stat(path.join(dataDir, chunkRelativePath(contentHashOf(large))))).mtimeMs).toBeCloseTo(2_000_000, 0);

    clockMs = 2_500_000;
    await store.put(contentHashOf(large), once(large), null);
    expect(await times()).toEqual({ [contentHashOf(small)]: 2_000_000, [contentHashOf(large)]: 2_500_000 });

    await store.close();
    clockMs = 3_000_000;
    await open();
    expect(await times()).toEqual({ [contentHashOf(small)]: 3_000_000, [contentHashOf(large)]: 3_000_000 });
    clockMs = 3_100_000;
    await store.put(contentHashOf(small), once(small), null);
    await store.put(contentHashOf(large), once(large), null);
    expect(await times()).toEqual({ [contentHashOf(small)]: 3_100_000, [contentHashOf(large)]: 3_100_000 });
  });

  it('counts a chunk once when several PUTs of the same new bytes commit at the same time', async () => {
    for (const sizeBytes of [200, 300 * KiB]) {
      const data = randomBytes(sizeBytes);
      const results = await Promise.all(Array.from({ length: 6 }, () => store.put(contentHashOf(data), once(data), null)));
      expect(results.filter((r) => !r.existed).length).toBe(1);
    }
    const usage = await store.usage();
    expect(usage.chunkCount).toBe(2);
    expect(usage.packRecordsCommitted).toBe(1);
    expect(await fsp.readdir(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});

describe('FileChunkStore large chunk files, with O_DIRECT and through the page cache (real disk)', () => {
  let dataDir: string;
  const stores: FileChunkStore[] = [];
  const storeDirs = new Map<FileChunkStore, string>();
  const openStore = async (directWrites: boolean) => {
    const dir = await fsp.mkdtemp(path.join(dataDir, directWrites ? 'direct-' : 'cached-'));
    const store = await FileChunkStore.open({ dataDir: dir, directWrites });
    stores.push(store);
    storeDirs.set(store, dir);
    return store;
  };
  const fileOf = (store: FileChunkStore, hash: ContentHash) => path.join(storeDirs.get(store)!, chunkRelativePath(hash));

  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-chunk-files-'));
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it('writes through O_DIRECT on this data directory unless told not to', async () => {
    // The development machines and CI keep os.tmpdir() on ext4, which takes O_DIRECT.
    expect((await openStore(true)).writesDirect).toBe(true);
    expect((await openStore(false)).writesDirect).toBe(false);
  });

  it.each([true, false])('stores every byte of chunks whose sizes fall on and off the alignment and block boundaries (direct: %s)', async (directWrites) => {
    const store = await openStore(directWrites);
    const sizes = [64 * KiB, 64 * KiB + 1, DIRECT_WRITE_BLOCK_BYTES - 1, DIRECT_WRITE_BLOCK_BYTES, DIRECT_WRITE_BLOCK_BYTES + 4096, 2 * DIRECT_WRITE_BLOCK_BYTES + 12_345, 8 * 1024 * KiB];
    for (const sizeBytes of sizes) {
      const data = randomBytes(sizeBytes);
      const hash = contentHashOf(data);
      // Pieces that straddle block boundaries, as 64 KiB socket reads of a body do not always.
      expect(await store.put(hash, inPieces(data, 65_000), sizeBytes)).toMatchObject({ existed: false, sizeBytes });
      // Buffer.equals: jest's toEqual walks megabytes element by element.
      expect((await fsp.readFile(fileOf(store, hash))).equals(data)).toBe(true);
      const handle = (await store.read(hash, { start: sizeBytes - 10, end: sizeBytes }))!;
      const read: Buffer[] = [];
      for await (const piece of handle.stream) read.push(piece as Buffer);
      handle.done?.(true);
      expect(Buffer.concat(read).equals(data.subarray(sizeBytes - 10))).toBe(true);
    }
  });

  it('hands a whole chunk to a reader that verifies it a piece at a time as the disk reads it, in one reused buffer', async () => {
    const store = await openStore(true);
    const data = randomBytes(8 * 1024 * KiB);
    const hash = contentHashOf(data);
    await store.put(hash, inPieces(data, 64 * KiB), data.length);
    const readWhole = async () => {
      const handle = (await store.read(hash, null, { readerVerifies: true }))!;
      const pieces: Buffer[] = [];
      for await (const piece of handle.stream) pieces.push(piece as Buffer);
      handle.done?.(true);
      return pieces;
    };
    const pieces = await readWhole();
    expect(pieces.map((p) => p.length)).toEqual(Array.from({ length: data.length / WHOLE_READ_PIECE_BYTES }, () => WHOLE_READ_PIECE_BYTES));
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
    expect(new Set(pieces.map((p) => p.buffer)).size).toBe(1);
    // Given back with done(true): the next whole read lands in the same buffer.
    expect((await readWhole())[0].buffer).toBe(pieces[0].buffer);
  });

  it('a wrong body or one cut short leaves no file behind and gives every aligned block back', async () => {
    const store = await openStore(true);
    const blocks = processDirectWriteBlocks()!;
    const freeBefore = blocks.freeCount;
    const data = randomBytes(3 * DIRECT_WRITE_BLOCK_BYTES + 100);
    const wrongHash = contentHashOf(randomBytes(16));
    await expect(store.put(wrongHash, inPieces(data, 64 * KiB), data.length)).rejects.toThrow(/hashes to/);
    await expect(store.put(contentHashOf(data), inPieces(data, 64 * KiB, 2 * DIRECT_WRITE_BLOCK_BYTES + 64 * KiB), data.length)).rejects.toMatchObject({ code: 'BODY_ABORTED' });
    expect(blocks.freeCount).toBe(freeBefore);
    expect(await fsp.readdir(path.join(storeDirs.get(store)!, 'tmp'))).toEqual([]);
    expect(await store.sizeOf(contentHashOf(data))).toBeNull();
  });

  it('writes through the page cache when every aligned block is taken, and goes back to O_DIRECT after', async () => {
    const store = await openStore(true);
    const blocks = processDirectWriteBlocks()!;
    const taken = blocks.tryTake(blocks.freeCount)!;
    try {
      const data = randomBytes(DIRECT_WRITE_BLOCK_BYTES + 7);
      expect(await store.put(contentHashOf(data), inPieces(data, 64 * KiB), data.length)).toMatchObject({ existed: false });
      expect((await fsp.readFile(fileOf(store, contentHashOf(data)))).equals(data)).toBe(true);
    } finally {
      blocks.giveBack(taken);
    }
    const data = randomBytes(DIRECT_WRITE_BLOCK_BYTES + 9);
    expect(await store.put(contentHashOf(data), inPieces(data, 64 * KiB), data.length)).toMatchObject({ existed: false });
  });
});
