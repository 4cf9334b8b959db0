import { createHash, randomBytes } from 'node:crypto';
import { HashWorkerPool, InThreadUploadHashes } from './upload-hashes';

const md5Of = (bytes: Buffer) => createHash('md5').update(bytes).digest();
const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('UploadHashes', () => {
  let pool: HashWorkerPool;
  beforeEach(() => {
    pool = new HashWorkerPool(2);
  });
  afterEach(async () => {
    await pool.close();
  });

  it("hashes on a worker what the main thread would, for bodies fed together in interleaved pieces: each body's MD5, each chunk's SHA-256", async () => {
    const bodies = [randomBytes(3 * 65536 + 17), randomBytes(1), randomBytes(200_000), Buffer.alloc(0)];
    const hashes = bodies.map(() => pool.open());
    const buffers = bodies.map((_, i) => hashes[i].allocate(65536));
    expect(buffers.every((b) => b.buffer instanceof SharedArrayBuffer)).toBe(true);
    const pieceBytes = 65536;
    const chunkBytes = 2 * pieceBytes;
    const chunkNames: string[][] = bodies.map(() => []);
    for (let offset = 0; bodies.some((b) => offset < b.length); offset += pieceBytes) {
      await Promise.all(
        bodies.map(async (body, i) => {
          if (offset >= body.length) return;
          // The same shared buffer is refilled for each piece: update resolves once the worker has read it.
          const n = body.copy(buffers[i], 0, offset, offset + pieceBytes);
          await hashes[i].update(buffers[i].subarray(0, n), true);
          if ((offset + n) % chunkBytes === 0 || offset + n === body.length) chunkNames[i].push((await hashes[i].endChunk()) ?? 'none');
        }),
      );
    }
    const digests = await Promise.all(hashes.map((h) => h.digest()));
    digests.forEach((digest, i) => expect(digest.equals(md5Of(bodies[i]))).toBe(true));
    bodies.forEach((body, i) => {
      const expected = [];
      for (let at = 0; at < body.length; at += chunkBytes) expected.push(sha256Of(body.subarray(at, at + chunkBytes)));
      expect(chunkNames[i]).toEqual(expected);
    });
  });

  it('leaves bytes given outside a chunk out of the chunk hash, not out of the MD5', async () => {
    const hashes = pool.open();
    const head = hashes.allocate(3);
    head.write('abc');
    await hashes.update(head, false);
    const tail = hashes.allocate(3);
    tail.write('def');
    await hashes.update(tail, true);
    expect(await hashes.endChunk()).toBe(sha256Of(Buffer.from('def')));
    expect((await hashes.digest()).equals(md5Of(Buffer.from('abcdef')))).toBe(true);
  });

  it('refuses bytes outside shared memory (they would be copied into the message)', async () => {
    const hashes = pool.open();
    await expect(hashes.update(Buffer.from('abc'), true)).rejects.toThrow(/shared memory/);
    hashes.drop();
  });

  it('keeps serving new bodies after a dropped one, and its state does not leak into them', async () => {
    const dropped = pool.open();
    const buffer = dropped.allocate(3);
    buffer.write('abc');
    await dropped.update(buffer, true);
    dropped.drop();
    const next = pool.open();
    const bytes = next.allocate(3);
    bytes.write('xyz');
    await next.update(bytes, true);
    expect(await next.endChunk()).toBe(sha256Of(Buffer.from('xyz')));
    expect((await next.digest()).equals(md5Of(Buffer.from('xyz')))).toBe(true);
  });

  it('fails the bodies of a worker that stopped, and a new body gets a new worker', async () => {
    const hashes = pool.open();
    await pool.close();
    await expect(hashes.update(hashes.allocate(1), true)).rejects.toThrow(/exited/);
    const fresh = pool.open();
    await fresh.update(fresh.allocate(1), true);
    expect((await fresh.digest()).equals(md5Of(Buffer.alloc(1)))).toBe(true);
  });

  it('on the main thread, the same MD5 and no chunk names (the store hashes chunks itself)', async () => {
    const body = randomBytes(1000);
    const hashes = new InThreadUploadHashes();
    await hashes.update(body.subarray(0, 10));
    await hashes.update(body.subarray(10));
    expect(await hashes.endChunk()).toBeUndefined();
    expect((await hashes.digest()).equals(md5Of(body))).toBe(true);
  });
});
