import { createHash, randomBytes } from 'node:crypto';
import { S3Error } from '../s3';
import { READ_AHEAD_CHUNKS, readChunkedBody } from './chunked-body.reader';
import { HASH_SEGMENT_BYTES, storeChunkedBody } from './chunked-body.writer';
import { InMemoryChunkStore } from './in-memory-chunk.store';
import { MemoryBudget } from './memory-budget';
import { ReadSlabs } from './read-slabs';
import { HashWorkerPool } from './upload-hashes';

const CHUNK_SIZE_BYTES = 1000;

async function* piecesOf(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of source) parts.push(piece);
  return Buffer.concat(parts);
}

describe('storeChunkedBody and readChunkedBody', () => {
  let budget: MemoryBudget;
  beforeEach(() => {
    budget = new MemoryBudget(4 * CHUNK_SIZE_BYTES);
  });
  afterEach(() => {
    // Every path, failures included, gives its reservation back.
    expect(budget.inUseBytes).toBe(0);
  });

  it.each([0, 1, 999, 1000, 1001, 4321])('cut %i bytes into fixed chunks at the right offsets and read them back', async (sizeBytes) => {
    const store = new InMemoryChunkStore();
    const body = randomBytes(sizeBytes);
    const stored = await storeChunkedBody(piecesOf(body, [7, 333, 1500, 1]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 10_000, budget });
    expect(stored.sizeBytes).toBe(sizeBytes);
    expect(stored.chunks.map((c) => [c.offsetBytes, c.sizeBytes])).toEqual(
      Array.from({ length: Math.ceil(sizeBytes / CHUNK_SIZE_BYTES) }, (_, i) => [i * CHUNK_SIZE_BYTES, Math.min(CHUNK_SIZE_BYTES, sizeBytes - i * CHUNK_SIZE_BYTES)]),
    );
    expect((await collect(readChunkedBody(store, stored.chunks, 0, sizeBytes, budget))).equals(body)).toBe(true);
  });

  it('writes one chunk at a time: never two writes in flight', async () => {
    const store = new InMemoryChunkStore();
    await storeChunkedBody(piecesOf(randomBytes(10 * CHUNK_SIZE_BYTES), [64]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget });
    expect(store.chunks.size).toBe(10);
    expect(store.maxWritesInFlight).toBe(1);
  });

  describe('receiving while a chunk is written', () => {
    /** A store whose writes finish only when the test lets them, and a source that counts what was read. */
    function held(): { store: InMemoryChunkStore; release: () => void; writesStarted: () => number } {
      const store = new InMemoryChunkStore();
      const write = store.write.bind(store);
      let gate!: () => void;
      let open = new Promise<void>((resolve) => (gate = resolve));
      let started = 0;
      store.write = async (bytes) => {
        started += 1;
        await open;
        return write(bytes);
      };
      return {
        store,
        release: () => {
          gate();
          open = Promise.resolve();
        },
        writesStarted: () => started,
      };
    }
    async function* counted(bytes: Buffer, pieceBytes: number, progress: { read: number }): AsyncGenerator<Buffer> {
      for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
        progress.read = offset + pieceBytes;
        yield bytes.subarray(offset, offset + pieceBytes);
      }
    }
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

    it('fills the next chunk from the client while the previous one is still being written', async () => {
      const { store, release, writesStarted } = held();
      const body = randomBytes(5 * CHUNK_SIZE_BYTES);
      const progress = { read: 0 };
      const storing = storeChunkedBody(counted(body, 100, progress), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget });
      await settle();
      // The first chunk's write is held; the second chunk was received meanwhile, and not a byte more.
      expect(writesStarted()).toBe(1);
      expect(progress.read).toBe(2 * CHUNK_SIZE_BYTES + 100);
      expect(budget.inUseBytes).toBe(2 * CHUNK_SIZE_BYTES);
      release();
      const stored = await storing;
      expect(stored.chunks.map((c) => c.offsetBytes)).toEqual([0, 1000, 2000, 3000, 4000]);
      expect((await collect(readChunkedBody(store, stored.chunks, 0, body.length, budget))).equals(body)).toBe(true);
      expect(store.maxWritesInFlight).toBe(1);
    });

    it('pauses the client instead when the memory budget has no second buffer to spare', async () => {
      const { store, release } = held();
      const tight = new MemoryBudget(CHUNK_SIZE_BYTES);
      const progress = { read: 0 };
      const storing = storeChunkedBody(counted(randomBytes(3 * CHUNK_SIZE_BYTES), 100, progress), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget: tight });
      await settle();
      expect(progress.read).toBe(CHUNK_SIZE_BYTES + 100);
      expect(tight.inUseBytes).toBe(CHUNK_SIZE_BYTES);
      release();
      expect((await storing).chunks).toHaveLength(3);
      expect(tight.inUseBytes).toBe(0);
    });

    it('fails with the error of a chunk whose write failed while the next was received, and gives both buffers back', async () => {
      const store = new InMemoryChunkStore();
      let writes = 0;
      store.write = async () => {
        writes += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error(`replicas refused chunk ${writes}`);
      };
      await expect(storeChunkedBody(piecesOf(randomBytes(4 * CHUNK_SIZE_BYTES), [300]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget })).rejects.toThrow(
        'replicas refused chunk 1',
      );
      expect(writes).toBe(1);
    });
  });

  describe('hashes on a worker thread', () => {
    let pool: HashWorkerPool;
    beforeAll(() => {
      pool = new HashWorkerPool(1);
    });
    afterAll(async () => {
      await pool.close();
    });
    const md5Of = (bytes: Buffer) => createHash('md5').update(bytes).digest();
    /** A store that keeps the name each write was handed (undefined: the store names the chunk). */
    const storeRecordingNames = () => {
      const store = new InMemoryChunkStore();
      const names: (string | undefined)[] = [];
      const write = store.write.bind(store);
      store.write = (bytes, name) => {
        names.push(name);
        return write(bytes, name);
      };
      return { store, names };
    };

    it.each([1, 1000, 4321])('hashes a %i-byte body in order from the shared chunk buffers it refills, and names its chunks', async (sizeBytes) => {
      const { store, names } = storeRecordingNames();
      const body = randomBytes(sizeBytes);
      const hashes = pool.open();
      const stored = await storeChunkedBody(piecesOf(body, [7, 333, 1500]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, hashes, inlineMaxBytes: 100 });
      expect((await hashes.digest()).equals(md5Of(body))).toBe(true);
      expect(names).toEqual(stored.chunks.filter((c) => c.inline === undefined).map((c) => c.hash));
      expect((await collect(readChunkedBody(store, stored.chunks, 0, sizeBytes, budget))).equals(body)).toBe(true);
    });

    it('hands segments to the hashes while a chunk buffer fills, not only once it is full', async () => {
      const store = new InMemoryChunkStore();
      const big = 3 * HASH_SEGMENT_BYTES + 5;
      const body = randomBytes(big);
      const hashes = pool.open();
      const sizes: number[] = [];
      const counting = { ...hashes, allocate: (n: number) => hashes.allocate(n), update: (bytes: Buffer, inChunk: boolean) => (sizes.push(bytes.length), hashes.update(bytes, inChunk)), endChunk: () => hashes.endChunk() };
      const stored = await storeChunkedBody(piecesOf(body, [65536]), { store, chunkSizeBytes: big, maxSizeBytes: 1e8, budget: new MemoryBudget(2 * big), hashes: counting });
      expect(sizes.length).toBeGreaterThanOrEqual(4);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(big);
      expect(stored.chunks.map((c) => c.hash)).toEqual([createHash('sha256').update(body).digest('hex')]);
      expect((await hashes.digest()).equals(md5Of(body))).toBe(true);
    });

    it('hashes the plain bytes of an encrypted body, and leaves the naming of its chunks (by ciphertext) to the store', async () => {
      const { store, names } = storeRecordingNames();
      const body = randomBytes(2500);
      const hashes = pool.open();
      const encrypt = (plain: Buffer) => ({ bytes: Buffer.from(plain.map((b) => b ^ 0xff)), iv: 'iv' });
      await storeChunkedBody(piecesOf(body, [700]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, hashes, encrypt });
      expect((await hashes.digest()).equals(md5Of(body))).toBe(true);
      expect(names).toEqual([undefined, undefined, undefined]);
    });

    it('does not refill a buffer its hashes still read, and gives the budget back only once they are done', async () => {
      const store = new InMemoryChunkStore();
      const body = randomBytes(5 * CHUNK_SIZE_BYTES);
      const inner = pool.open();
      const seen: Buffer[] = [];
      let hashesInFlight = 0;
      // Each step after the previous one, as a worker takes them.
      let queue: Promise<unknown> = Promise.resolve();
      const inOrder = <T>(step: () => Promise<T>): Promise<T> => {
        const next = queue.then(step);
        queue = next.catch(() => undefined);
        return next;
      };
      const slow = {
        allocate: (n: number) => inner.allocate(n),
        update: (bytes: Buffer, inChunk: boolean) => {
          hashesInFlight++;
          const before = Buffer.from(bytes);
          return inOrder(async () => {
            // A slow hash: the bytes it was given must not change under it.
            await new Promise((resolve) => setTimeout(resolve, 5));
            expect(bytes.equals(before)).toBe(true);
            seen.push(before);
            await inner.update(bytes, inChunk);
            hashesInFlight--;
          });
        },
        endChunk: () => inOrder(() => inner.endChunk()),
        digest: () => inOrder(() => inner.digest()),
        drop: () => inner.drop(),
      };
      await storeChunkedBody(piecesOf(body, [64]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, hashes: slow });
      expect(hashesInFlight).toBe(0);
      expect(Buffer.concat(seen).equals(body)).toBe(true);
      expect((await slow.digest()).equals(md5Of(body))).toBe(true);
    });

    it('fails the body when a hash fails, after the write that read the buffer has settled', async () => {
      const store = new InMemoryChunkStore();
      const inner = pool.open();
      const failing = { ...inner, allocate: (n: number) => inner.allocate(n), update: async () => Promise.reject(new Error('worker gone')), endChunk: async () => Promise.reject(new Error('worker gone')) };
      await expect(storeChunkedBody(piecesOf(randomBytes(3 * CHUNK_SIZE_BYTES), [300]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, hashes: failing })).rejects.toThrow(
        'worker gone',
      );
      expect(store.writesInFlight).toBe(0);
      inner.drop();
    });
  });

  it('refuses a body past the limit with EntityTooLarge before storing its last piece', async () => {
    const store = new InMemoryChunkStore();
    const failure = await storeChunkedBody(piecesOf(randomBytes(2500), [500]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 2000, budget }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(S3Error);
    expect((failure as S3Error).code).toBe('EntityTooLarge');
  });

  it('propagates a source failure (a client gone mid-body) without returning a chunk list', async () => {
    const store = new InMemoryChunkStore();
    async function* cut(): AsyncGenerator<Buffer> {
      yield randomBytes(1500);
      throw new Error('client went away');
    }
    await expect(storeChunkedBody(cut(), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget })).rejects.toThrow('client went away');
  });

  it('reads only the chunks a range touches, whole ones without a range so they are verified', async () => {
    const store = new InMemoryChunkStore();
    const body = randomBytes(5 * CHUNK_SIZE_BYTES);
    const stored = await storeChunkedBody(piecesOf(body, [CHUNK_SIZE_BYTES]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget });
    const bytes = await collect(readChunkedBody(store, stored.chunks, 1500, 3000, budget));
    expect(bytes.equals(body.subarray(1500, 3000))).toBe(true);
    expect(store.reads).toEqual([
      { hash: stored.chunks[1].hash, range: { start: 500, end: 1000 } },
      { hash: stored.chunks[2].hash },
    ]);
  });

  it('takes only the announced size for a body shorter than a chunk', async () => {
    const store = new InMemoryChunkStore();
    let peakBytes = 0;
    async function* watched(): AsyncGenerator<Buffer> {
      yield randomBytes(10);
      peakBytes = budget.inUseBytes;
    }
    await storeChunkedBody(watched(), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, sizeHintBytes: 10 });
    expect(peakBytes).toBe(10);
  });

  describe('read-ahead', () => {
    /** A store whose reads wait until released, so a test sees what is fetched ahead and when. */
    class GatedStore extends InMemoryChunkStore {
      readonly gates: Array<() => void> = [];
      failHash: string | null = null;
      override async read(hash: string, range?: { readonly start: number; readonly end: number }) {
        await new Promise<void>((resolve) => this.gates.push(resolve));
        if (hash === this.failHash) throw new Error('replicas unavailable');
        return super.read(hash, range);
      }
      openAll(): void {
        for (const gate of this.gates.splice(0)) gate();
      }
    }
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    async function storedIn(store: InMemoryChunkStore, chunkCount: number) {
      const body = randomBytes(chunkCount * CHUNK_SIZE_BYTES);
      const stored = await storeChunkedBody(piecesOf(body, [CHUNK_SIZE_BYTES]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget });
      return { body, stored };
    }

    it('fetches the next READ_AHEAD_CHUNKS chunks while the current one is passed on, under the read budget', async () => {
      const held = 1 + READ_AHEAD_CHUNKS;
      const store = new GatedStore();
      const { body, stored } = await storedIn(store, held + 1);
      const pieces = readChunkedBody(store, stored.chunks, 0, body.length, budget);
      const first = pieces.next();
      await tick();
      expect(store.gates.length).toBe(held); // chunk 0 and, ahead of it, the next READ_AHEAD_CHUNKS
      expect(budget.inUseBytes).toBe(held * CHUNK_SIZE_BYTES);
      store.openAll();
      expect((await first).value.equals(body.subarray(0, CHUNK_SIZE_BYTES))).toBe(true);
      const rest: Buffer[] = [];
      for (;;) {
        store.openAll();
        const next = await pieces.next();
        if (next.done) break;
        rest.push(next.value);
        expect(budget.inUseBytes).toBeLessThanOrEqual(held * CHUNK_SIZE_BYTES);
      }
      expect(Buffer.concat(rest).equals(body.subarray(CHUNK_SIZE_BYTES))).toBe(true);
    });

    it('holds at most 1 + READ_AHEAD_CHUNKS chunks per read, and never more than the budget whatever the number of reads', async () => {
      const store = new GatedStore();
      const { body, stored } = await storedIn(store, 6);
      const heldPerRead = (1 + READ_AHEAD_CHUNKS) * CHUNK_SIZE_BYTES;
      const alone = new MemoryBudget(100 * CHUNK_SIZE_BYTES);
      const solo = readChunkedBody(store, stored.chunks, 0, body.length, alone);
      const soloParts: Buffer[] = [];
      for (let next = solo.next(); ; next = solo.next()) {
        await tick();
        expect(alone.inUseBytes).toBeLessThanOrEqual(heldPerRead);
        store.openAll();
        const step = await next;
        if (step.done) break;
        soloParts.push(step.value);
      }
      expect(Buffer.concat(soloParts).equals(body)).toBe(true);
      expect(alone.inUseBytes).toBe(0);

      // Ten reads at once against a budget of four chunks: each gets its first chunk in turn, none deadlocks.
      const reads = Array.from({ length: 10 }, () => collect(readChunkedBody(store, stored.chunks, 0, body.length, budget)));
      const done = Promise.all(reads);
      let finished = false;
      void done.then(() => (finished = true));
      while (!finished) {
        await tick();
        expect(budget.inUseBytes).toBeLessThanOrEqual(budget.totalBytes);
        store.openAll();
      }
      for (const read of await done) expect(read.equals(body)).toBe(true);
    });

    it('does not fetch ahead when the budget has no room to spare, and never waits in its queue for it', async () => {
      const store = new InMemoryChunkStore();
      const { body, stored } = await storedIn(store, 3);
      const others = await budget.acquire(3 * CHUNK_SIZE_BYTES);
      const pieces = readChunkedBody(store, stored.chunks, 0, body.length, budget);
      expect((await pieces.next()).value.length).toBe(CHUNK_SIZE_BYTES);
      expect(budget.inUseBytes).toBe(4 * CHUNK_SIZE_BYTES);
      expect(budget.waiting).toBe(0);
      expect(store.reads.length).toBe(1);
      others();
      expect(Buffer.concat([body.subarray(0, CHUNK_SIZE_BYTES), await collect(pieces)]).equals(body)).toBe(true);
    });

    it('gives a read-ahead back when the client goes away, also one still being fetched', async () => {
      const store = new GatedStore();
      const { body, stored } = await storedIn(store, 4);
      const pieces = readChunkedBody(store, stored.chunks, 0, body.length, budget);
      const first = pieces.next();
      await tick();
      store.gates.shift()?.(); // chunk 0 arrives; chunk 1 is still on its way
      await first;
      await pieces.return(undefined);
      store.openAll();
      await tick();
      expect(budget.inUseBytes).toBe(0);
    });

    it('gives every reservation back when a chunk cannot be read, including the one fetched ahead of it', async () => {
      const store = new GatedStore();
      const { body, stored } = await storedIn(store, 3);
      store.failHash = stored.chunks[1].hash;
      const failure = collect(readChunkedBody(store, stored.chunks, 0, body.length, budget)).catch((e: unknown) => e);
      for (let i = 0; i < 5; i++) {
        store.openAll();
        await tick();
      }
      expect(await failure).toEqual(new Error('replicas unavailable'));
      store.openAll();
      await tick();
      expect(budget.inUseBytes).toBe(0);
    });
  });

  describe('reused slabs', () => {
    async function storedIn(store: InMemoryChunkStore, sizeBytes: number) {
      const body = randomBytes(sizeBytes);
      const stored = await storeChunkedBody(piecesOf(body, [CHUNK_SIZE_BYTES]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget });
      return { body, stored };
    }
    /** Copies each piece before asking for the next, as a caller of slabs must be done with it by then. */
    async function copied(source: AsyncIterable<Buffer>): Promise<Buffer> {
      const parts: Buffer[] = [];
      for await (const piece of source) parts.push(Buffer.from(piece));
      return Buffer.concat(parts);
    }

    it('receives whole chunks into slabs reused across reads, the last partial chunk as before', async () => {
      const store = new InMemoryChunkStore();
      const slabs = new ReadSlabs(CHUNK_SIZE_BYTES);
      const { body, stored } = await storedIn(store, 3 * CHUNK_SIZE_BYTES + 10);
      for (let round = 0; round < 3; round++) {
        expect((await copied(readChunkedBody(store, stored.chunks, 0, body.length, budget, 1, undefined, slabs))).equals(body)).toBe(true);
        // This one and the one ahead of it.
        expect(slabs.keptCount).toBe(2);
      }
    });

    it('does not refill a slab whose bytes the caller holds; it is reused once the caller asks for more', async () => {
      const store = new InMemoryChunkStore();
      const slabs = new ReadSlabs(CHUNK_SIZE_BYTES);
      const { body, stored } = await storedIn(store, 3 * CHUNK_SIZE_BYTES);
      const pieces = readChunkedBody(store, stored.chunks, 0, body.length, budget, 1, undefined, slabs);
      const first = (await pieces.next()).value as Buffer;
      await new Promise((resolve) => setImmediate(resolve)); // the read-ahead has landed meanwhile
      expect(first.equals(body.subarray(0, CHUNK_SIZE_BYTES))).toBe(true);
      const second = (await pieces.next()).value as Buffer;
      expect(second.buffer).not.toBe(first.buffer);
      expect(second.equals(body.subarray(CHUNK_SIZE_BYTES, 2 * CHUNK_SIZE_BYTES))).toBe(true);
      // The third chunk, fetched ahead when the second was asked for, went into the first's slab.
      const third = (await pieces.next()).value as Buffer;
      expect(third.buffer).toBe(first.buffer);
      expect(third.equals(body.subarray(2 * CHUNK_SIZE_BYTES))).toBe(true);
      expect((await pieces.next()).done).toBe(true);
    });

    it('leaves a slab handed over to the collector when the caller stops', async () => {
      const store = new InMemoryChunkStore();
      const slabs = new ReadSlabs(CHUNK_SIZE_BYTES);
      const { body, stored } = await storedIn(store, 3 * CHUNK_SIZE_BYTES);
      const pieces = readChunkedBody(store, stored.chunks, 0, body.length, budget, 1, undefined, slabs);
      const held = (await pieces.next()).value as Buffer;
      await pieces.return(undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(slabs.take(CHUNK_SIZE_BYTES)?.buffer).not.toBe(held.buffer);
    });

    it('takes no slab for a range within a chunk', async () => {
      const store = new InMemoryChunkStore();
      const slabs = new ReadSlabs(CHUNK_SIZE_BYTES);
      const { body, stored } = await storedIn(store, 2 * CHUNK_SIZE_BYTES);
      expect((await collect(readChunkedBody(store, stored.chunks, 10, 1500, budget, 1, undefined, slabs))).equals(body.subarray(10, 1500))).toBe(true);
      expect(slabs.keptCount).toBe(0);
    });
  });

  describe('small bodies kept inline', () => {
    const INLINE_MAX_BYTES = 300;

    it.each([1, 299, 300])('keeps a %i-byte body in its chunk reference and sends nothing to storage', async (sizeBytes) => {
      const store = new InMemoryChunkStore();
      const body = randomBytes(sizeBytes);
      const options = { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, inlineMaxBytes: INLINE_MAX_BYTES, sizeHintBytes: sizeBytes };
      const stored = await storeChunkedBody(piecesOf(body, [7, 100]), options);
      expect(stored.chunks).toEqual([{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes, inline: body.toString('base64') }]);
      expect(store.chunks.size).toBe(0);
      expect((await collect(readChunkedBody(store, stored.chunks, 0, sizeBytes, budget))).equals(body)).toBe(true);
      expect(store.reads).toEqual([]);
    });

    it.each([301, 2500])('stores a %i-byte body on storage as before', async (sizeBytes) => {
      const store = new InMemoryChunkStore();
      const stored = await storeChunkedBody(piecesOf(randomBytes(sizeBytes), [64]), {
        store,
        chunkSizeBytes: CHUNK_SIZE_BYTES,
        maxSizeBytes: 1e6,
        budget,
        inlineMaxBytes: INLINE_MAX_BYTES,
      });
      expect(stored.chunks.every((c) => c.inline === undefined)).toBe(true);
      expect(store.chunks.size).toBe(Math.ceil(sizeBytes / CHUNK_SIZE_BYTES));
    });

    it('stores the empty body as no chunks at all', async () => {
      const store = new InMemoryChunkStore();
      const stored = await storeChunkedBody(piecesOf(Buffer.alloc(0), [1]), { store, chunkSizeBytes: CHUNK_SIZE_BYTES, maxSizeBytes: 1e6, budget, inlineMaxBytes: INLINE_MAX_BYTES });
      expect(stored).toEqual({ sizeBytes: 0, chunks: [] });
    });

    it('serves a range of inline bytes', async () => {
      const body = randomBytes(200);
      const chunks = [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: 200, inline: body.toString('base64') }];
      expect((await collect(readChunkedBody(new InMemoryChunkStore(), chunks, 50, 120, budget))).equals(body.subarray(50, 120))).toBe(true);
    });

    it('refuses to serve inline bytes that do not match their hash', async () => {
      const body = randomBytes(200);
      const tampered = Buffer.from(body);
      tampered[3] ^= 1;
      const chunks = [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: 200, inline: tampered.toString('base64') }];
      const failure = await collect(readChunkedBody(new InMemoryChunkStore(), chunks, 0, 200, budget)).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(S3Error);
      expect((failure as S3Error).code).toBe('InternalError');
    });
  });
});
