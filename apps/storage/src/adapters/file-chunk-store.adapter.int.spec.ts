import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentHashOf } from '@cairn/hashing';
import { chunkRelativePath } from '../domain/chunk-layout';
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
