import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ContentHasher, contentHashOf, isContentHash, type ContentHash } from '@cairn/hashing';
import {
  CHUNKS_DIR,
  CORRUPT_DIR,
  GROUP_COMMIT_MAX_BYTES_DEFAULT,
  GROUP_COMMIT_WINDOW_MS_DEFAULT,
  LIST_LIMIT_MAX,
  MAX_CHUNK_SIZE_BYTES,
  PACKS_DIR,
  READ_BUFFER_BYTES,
  READ_BUFFER_POOL_BUFFER_BYTES,
  SMALL_CHUNK_THRESHOLD_BYTES_DEFAULT,
  TEMP_DIR,
  WHOLE_READ_MAX_BYTES,
  WHOLE_READ_PIECE_BYTES,
  WHOLE_READS_IN_FLIGHT_MAX,
  chunkRelativePath,
  type ByteRange,
} from '../domain/chunk-layout';
import { mayDeleteTouchedAt, mtimeToTouchedAtMs, reportedTouchedAtMs, verifyBudgetAllows } from '../domain/chunk-maintenance';
import { BodyAbortedError, ChunkCorruptError, ChunkHashMismatchError, ChunkTooLargeError } from '../domain/chunk-store.errors';
import type {
  ChunkListing,
  ChunkListingEntry,
  ChunkReadHandle,
  ChunkStore,
  ChunkStoreUsage,
  CorruptChunkFoundAt,
  CorruptChunkReporter,
  DeleteChunkCondition,
  DeleteChunkOutcome,
  DirectBody,
  ListChunksQuery,
  PutChunkOptions,
  PutChunkResult,
  VerifyChunksQuery,
  VerifyChunksReport,
} from '../domain/chunk-store.port';
import type { PackIndexEntry } from '../domain/pack-record';
import {
  BufferedChunkFileWriter,
  DirectChunkFileWriter,
  directCreateFlags,
  directWritesWork,
  processDirectWriteBlocks,
  ReceivingChunkFileWriter,
  type AlignedBlockPool,
  type ChunkFileWriter,
} from './chunk-file-writer';
import { ensureDirectoryDurably, fsyncDirectory } from './durable-fs';
import { KeyedLock } from './keyed-lock';
import { PackStore, type PackRecoveryReport } from './pack-store.adapter';
import { ReadBufferPool, type ReadBufferLease } from './read-buffer-pool';

export interface FileChunkStoreOptions {
  readonly dataDir: string;
  readonly smallChunkThresholdBytes?: number;
  readonly maxChunkSizeBytes?: number;
  readonly groupCommitWindowMs?: number;
  readonly groupCommitMaxBytes?: number;
  readonly corruptChunkReporter?: CorruptChunkReporter;
  /**
   * Large chunks are written with O_DIRECT when the data directory's filesystem takes it
   * (default true); false writes them through the page cache.
   */
  readonly directWrites?: boolean;
  /** Wall clock for touch times, epoch ms. */
  readonly nowMs?: () => number;
}

const TEMP_NAME_RANDOM_BYTES = 8;

/** A chunk file being read, and what a quarantine needs to know about it. */
interface OpenedChunkFile {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  /** The file read, so that a quarantine never moves a newer file of the same name. */
  readonly inode: number;
  readonly foundAt: CorruptChunkFoundAt;
}

interface PackedChunkRead {
  readonly data: Buffer;
  readonly packId: number;
  readonly recordOffset: number;
}

/**
 * Chunks on local disk (docs/architecture.md §3, Storage node). A chunk at or above the small-chunk
 * threshold is a file `chunks/ab/cd/<hash>`, written under a temporary name (with O_DIRECT where the
 * filesystem takes it), fsync'd, renamed and its directory fsync'd; a smaller one goes into a pack (PackStore). Every write is hashed as it
 * arrives and refused unless it matches its name; every read is hashed as it streams and a chunk
 * that does not match is moved to `corrupt/` and reported, never served as good — except a whole
 * read for a reader that hashes the bytes itself (`readerVerifies`), which asks again without it
 * when they are wrong.
 *
 * Every write or repeated PUT of a chunk records it as touched (a file's mtime; for packed
 * chunks a map in memory), and a conditional delete (garbage collection) refuses a chunk touched
 * since its threshold. PUTs, deletes and quarantines of one hash are serialised by a per-hash
 * lock: PUTs of a chunk held already share it while they read their bodies, so a delete waits for
 * them and then sees their touch; a new chunk's commit, a delete and a quarantine hold it alone.
 */
export class FileChunkStore implements ChunkStore {
  private chunkFileCount = 0;
  private chunkFileBytes = 0;
  private corruptFound = 0;
  private readonly threshold: number;
  private readonly maxChunkBytes: number;
  private readonly readBuffers = new ReadBufferPool(READ_BUFFER_POOL_BUFFER_BYTES, WHOLE_READS_IN_FLIGHT_MAX);
  private readonly locks = new KeyedLock<ContentHash>();
  /** Packed chunks written or touched since opening; the others count as touched at opening. */
  private readonly packedTouchedAtMs = new Map<ContentHash, number>();
  private readonly nowMs: () => number;
  private readonly openedAtMs: number;
  /** One verify call at a time: each already reads up to its byte budget. */
  private verifying: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: FileChunkStoreOptions,
    private readonly packs: PackStore,
    readonly recovery: PackRecoveryReport,
    /** Aligned blocks for O_DIRECT chunk-file writes; null when this store writes through the page cache. */
    private readonly directBlocks: AlignedBlockPool | null,
  ) {
    this.threshold = options.smallChunkThresholdBytes ?? SMALL_CHUNK_THRESHOLD_BYTES_DEFAULT;
    this.maxChunkBytes = options.maxChunkSizeBytes ?? MAX_CHUNK_SIZE_BYTES;
    this.nowMs = options.nowMs ?? (() => Date.now());
    this.openedAtMs = this.nowMs();
  }

  static async open(options: FileChunkStoreOptions): Promise<FileChunkStore> {
    const dir = options.dataDir;
    for (const sub of [CHUNKS_DIR, TEMP_DIR, CORRUPT_DIR, PACKS_DIR]) await ensureDirectoryDurably(path.join(dir, sub));
    // Partial writes of a previous run were never acknowledged: they are garbage.
    for (const name of await fsp.readdir(path.join(dir, TEMP_DIR))) await fsp.rm(path.join(dir, TEMP_DIR, name), { force: true });
    const { store: packs, recovery } = await PackStore.open({
      dir: path.join(dir, PACKS_DIR),
      maxRecordBytes: options.smallChunkThresholdBytes ?? SMALL_CHUNK_THRESHOLD_BYTES_DEFAULT,
      groupCommitWindowMs: options.groupCommitWindowMs ?? GROUP_COMMIT_WINDOW_MS_DEFAULT,
      groupCommitMaxBytes: options.groupCommitMaxBytes ?? GROUP_COMMIT_MAX_BYTES_DEFAULT,
    });
    const blocks = options.directWrites === false ? null : processDirectWriteBlocks();
    const directBlocks = blocks && (await directWritesWork(path.join(dir, TEMP_DIR), blocks)) ? blocks : null;
    const store = new FileChunkStore(options, packs, recovery, directBlocks);
    await store.scanChunkFiles();
    return store;
  }

  async put(hash: ContentHash, body: AsyncIterable<Uint8Array>, declaredSizeBytes: number | null, options: PutChunkOptions = {}): Promise<PutChunkResult> {
    if (declaredSizeBytes !== null && declaredSizeBytes > this.maxChunkBytes) throw new ChunkTooLargeError(this.maxChunkBytes);
    const existing = await this.locks.shared(hash, async () => ((await this.sizeOf(hash)) === null ? null : this.discardExisting(hash, body)));
    if (existing) return existing;

    const hasher = new ContentHasher();
    // A body that may be taken, declared at or past the threshold, makes a chunk file (its
    // framing refuses a body that ends short): no head is read, and it may be received straight
    // into the blocks.
    const takeDirect = options.takeDirect;
    if (takeDirect && declaredSizeBytes !== null && declaredSizeBytes >= this.threshold && declaredSizeBytes > 0) {
      return this.writeChunkFile(hash, hasher, [], 0, body[Symbol.asyncIterator](), () => takeDirect(declaredSizeBytes));
    }
    const iterator = body[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let headBytes = 0;
    let ended = false;
    try {
      while (headBytes < this.threshold) {
        const next = await iterator.next();
        if (next.done) {
          ended = true;
          break;
        }
        hasher.update(next.value);
        head.push(next.value);
        headBytes += next.value.byteLength;
        if (headBytes > this.maxChunkBytes) throw new ChunkTooLargeError(this.maxChunkBytes);
      }
    } catch (error) {
      throw wrapBodyError(error);
    }
    if (ended && headBytes < this.threshold) {
      const actual = hasher.digest();
      if (actual !== hash) throw new ChunkHashMismatchError(hash, actual, headBytes);
      const data = Buffer.concat(head, headBytes);
      return this.locks.exclusive(hash, async () => {
        if ((await this.sizeOf(hash)) !== null) return this.touchExisting(hash, headBytes);
        this.packedTouchedAtMs.set(hash, this.nowMs());
        try {
          await this.packs.append(hash, data);
        } catch (error) {
          this.packedTouchedAtMs.delete(hash);
          throw error;
        }
        return { hash, sizeBytes: headBytes, existed: false, packed: true };
      });
    }
    return this.writeChunkFile(hash, hasher, head, headBytes, ended ? null : iterator);
  }

  async sizeOf(hash: ContentHash): Promise<number | null> {
    const packed = this.packs.entryOf(hash);
    if (packed) return packed.lengthBytes;
    try {
      return (await fsp.stat(this.chunkPath(hash))).size;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  read(hash: ContentHash, range: ByteRange | null, options?: { readonly readerVerifies?: boolean }): Promise<ChunkReadHandle | null> {
    return this.openVerified(hash, range, 'read', options?.readerVerifies === true && range === null);
  }

  /** `readerVerifies`: a whole chunk file is sent unhashed (packed chunks, small, are checked anyway). */
  private async openVerified(hash: ContentHash, range: ByteRange | null, foundAt: CorruptChunkFoundAt, readerVerifies = false): Promise<ChunkReadHandle | null> {
    if (this.packs.has(hash)) return this.readPacked(hash, range, foundAt);
    let handle: FileHandle;
    try {
      handle = await fsp.open(this.chunkPath(hash), 'r');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    let opened: OpenedChunkFile;
    try {
      const stats = await handle.stat();
      opened = { hash, sizeBytes: stats.size, inode: stats.ino, foundAt };
    } catch (error) {
      await handle.close();
      throw error;
    }
    const { sizeBytes } = opened;
    const wanted = range ?? { start: 0, end: sizeBytes };
    const lease = sizeBytes <= WHOLE_READ_MAX_BYTES ? this.readBuffers.tryLease(sizeBytes) : null;
    if (lease && readerVerifies) return this.readWholeAsItLands(opened, handle, lease);
    if (lease) return this.readWhole(opened, handle, wanted, lease);
    const file = createReadStream('', { fd: handle, highWaterMark: READ_BUFFER_BYTES });
    if (readerVerifies) return { sizeBytes, range: wanted, stream: file };
    return { sizeBytes, range: wanted, stream: Readable.from(this.verifiedSlices(opened, file, wanted), { objectMode: false }) };
  }

  async list(query: ListChunksQuery): Promise<ChunkListing> {
    const limit = Math.min(query.limit, LIST_LIMIT_MAX);
    const after = query.after ?? '';
    const matches = (h: string) => h > after && h.startsWith(query.prefix) && isContentHash(h);
    const found: ContentHash[] = [];
    const root = path.join(this.options.dataDir, CHUNKS_DIR);
    // Collect one more than asked, from files and packs, so we know whether the listing goes on.
    outer: for (const a of await sortedDirs(root)) {
      if (!dirMayHold(a, query.prefix, after)) continue;
      for (const b of await sortedDirs(path.join(root, a))) {
        if (!dirMayHold(a + b, query.prefix, after)) continue;
        for (const name of (await fsp.readdir(path.join(root, a, b))).sort()) {
          if (matches(name)) found.push(name as ContentHash);
          if (found.length > limit) break outer;
        }
      }
    }
    for (const h of this.packs.hashes()) if (matches(h)) found.push(h);
    found.sort();
    const page = found.slice(0, limit);
    const nextAfter = found.length > limit ? page[page.length - 1] : null;
    if (!query.detail) return { hashes: page, nextAfter };
    const hashes: ContentHash[] = [];
    const entries: ChunkListingEntry[] = [];
    for (const hash of page) {
      const entry = await this.entryOf(hash);
      // Deleted since it was listed: left out of both, which stay in step.
      if (!entry) continue;
      hashes.push(hash);
      entries.push(entry);
    }
    return { hashes, nextAfter, entries };
  }

  delete(hash: ContentHash, condition: DeleteChunkCondition = {}): Promise<DeleteChunkOutcome> {
    return this.locks.exclusive(hash, async () => {
      const entry = await this.entryOf(hash);
      if (!entry) return 'absent';
      if (!mayDeleteTouchedAt(entry.touchedAtMs, condition.unlessTouchedSinceMs)) return 'recently-touched';
      if (await this.packs.remove(hash)) {
        this.packedTouchedAtMs.delete(hash);
        return 'deleted';
      }
      const file = this.chunkPath(hash);
      let sizeBytes: number;
      try {
        sizeBytes = (await fsp.stat(file)).size;
        await fsp.unlink(file);
      } catch (error) {
        if (isNotFound(error)) return 'absent';
        throw error;
      }
      await fsyncDirectory(path.dirname(file));
      this.chunkFileCount--;
      this.chunkFileBytes -= sizeBytes;
      return 'deleted';
    });
  }

  verify(query: VerifyChunksQuery): Promise<VerifyChunksReport> {
    const run = this.verifying.then(() => this.verifyPage(query));
    this.verifying = run.catch(() => undefined);
    return run;
  }

  async usage(): Promise<ChunkStoreUsage> {
    const fsStats = await fsp.statfs(this.options.dataDir);
    const packs = this.packs.usage();
    return {
      chunkCount: this.chunkFileCount + this.packs.chunkCount,
      chunkBytes: this.chunkFileBytes + packs.packLiveBytes,
      packedChunkCount: this.packs.chunkCount,
      packCount: packs.packCount,
      packFileBytes: packs.packFileBytes,
      packLiveBytes: packs.packLiveBytes,
      packGroupCommits: packs.groupCommits,
      packRecordsCommitted: packs.recordsCommitted,
      corruptChunksFound: this.corruptFound,
      capacityBytes: fsStats.blocks * fsStats.bsize,
      freeBytes: fsStats.bavail * fsStats.bsize,
    };
  }

  async close(): Promise<void> {
    await this.packs.close();
  }

  /** Whether large chunks go to disk with O_DIRECT (when aligned blocks are free). */
  get writesDirect(): boolean {
    return this.directBlocks !== null;
  }

  /**
   * The node holds this chunk already, verified when it was written: nothing is written and no
   * fsync is paid. The body is still read to its end (an HTTP client expects its request body to
   * be consumed) and hashed, which costs CPU only, so that a wrong body is refused the same way
   * whether or not the chunk existed. Clients that want to skip the upload ask HEAD first.
   */
  private async discardExisting(hash: ContentHash, body: AsyncIterable<Uint8Array>): Promise<PutChunkResult> {
    const hasher = new ContentHasher();
    try {
      for await (const piece of body) {
        hasher.update(piece);
        if (hasher.bytesHashed > this.maxChunkBytes) throw new ChunkTooLargeError(this.maxChunkBytes);
      }
    } catch (error) {
      throw wrapBodyError(error);
    }
    const actual = hasher.digest();
    if (actual !== hash) throw new ChunkHashMismatchError(hash, actual, hasher.bytesHashed);
    return this.touchExisting(hash, hasher.bytesHashed);
  }

  /** Call holding the hash's lock, with the chunk present. */
  private async touchExisting(hash: ContentHash, sizeBytes: number): Promise<PutChunkResult> {
    const nowMs = this.nowMs();
    if (this.packs.has(hash)) {
      this.packedTouchedAtMs.set(hash, Math.max(nowMs, this.packedTouchedAtMs.get(hash) ?? nowMs));
      return { hash, sizeBytes, existed: true, packed: true };
    }
    const at = new Date(nowMs);
    await fsp.utimes(this.chunkPath(hash), at, at);
    return { hash, sizeBytes, existed: true, packed: false };
  }

  /** Size and touch time, or null when absent. */
  private async entryOf(hash: ContentHash): Promise<ChunkListingEntry | null> {
    const packed = this.packs.entryOf(hash);
    if (packed) return { hash, sizeBytes: packed.lengthBytes, touchedAtMs: reportedTouchedAtMs(this.packedTouchedAtMs.get(hash), this.openedAtMs) };
    try {
      const stats = await fsp.stat(this.chunkPath(hash));
      return { hash, sizeBytes: stats.size, touchedAtMs: reportedTouchedAtMs(mtimeToTouchedAtMs(stats.mtimeMs), this.openedAtMs) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async verifyPage(query: VerifyChunksQuery): Promise<VerifyChunksReport> {
    const listing = await this.list({ prefix: '', after: query.after, limit: query.limit });
    const corrupt: ContentHash[] = [];
    const missing: ContentHash[] = [];
    let verifiedCount = 0;
    let verifiedBytes = 0;
    let last: ContentHash | null = null;
    let stoppedEarly = false;
    for (const hash of listing.hashes) {
      const sizeBytes = await this.sizeOf(hash);
      if (sizeBytes !== null && !verifyBudgetAllows(verifiedCount, verifiedBytes, sizeBytes, query.maxBytes)) {
        stoppedEarly = true;
        break;
      }
      const outcome = sizeBytes === null ? 'missing' : await this.verifyOne(hash);
      if (outcome === 'missing') {
        missing.push(hash);
      } else {
        verifiedCount++;
        verifiedBytes += outcome.sizeBytes;
        if (outcome.corrupt) corrupt.push(hash);
      }
      last = hash;
    }
    return { verifiedCount, verifiedBytes, corrupt, missing, nextAfter: stoppedEarly || listing.nextAfter !== null ? last : null };
  }

  /** Reads the chunk through the read path (so a bad one is quarantined as a bad read is) and drops the bytes. */
  private async verifyOne(hash: ContentHash): Promise<{ sizeBytes: number; corrupt: boolean } | 'missing'> {
    const handle = await this.openVerified(hash, null, 'scrub');
    if (!handle) return 'missing';
    let drained = false;
    try {
      for await (const _piece of handle.stream) {
        // Only the hash, checked inside the stream, is wanted.
      }
      drained = true;
      return { sizeBytes: handle.sizeBytes, corrupt: false };
    } catch (error) {
      if (error instanceof ChunkCorruptError) return { sizeBytes: handle.sizeBytes, corrupt: true };
      throw error;
    } finally {
      handle.done?.(drained);
    }
  }

  private async writeChunkFile(
    hash: ContentHash,
    hasher: ContentHasher,
    head: Uint8Array[],
    headBytes: number,
    rest: AsyncIterator<Uint8Array> | null,
    takeDirect?: () => DirectBody | null,
  ): Promise<PutChunkResult> {
    const temp = path.join(this.options.dataDir, TEMP_DIR, `${hash}.${randomBytes(TEMP_NAME_RANDOM_BYTES).toString('hex')}.part`);
    const blocks = this.directBlocks?.tryTake(DirectChunkFileWriter.blockCount) ?? null;
    let fh: FileHandle;
    try {
      fh = await fsp.open(temp, blocks ? directCreateFlags() : 'wx');
    } catch (error) {
      if (blocks) this.directBlocks?.giveBack(blocks);
      throw error;
    }
    // Taken only once the blocks and the file are there: a body taken must be received.
    let direct: DirectBody | null = null;
    try {
      direct = blocks && takeDirect ? takeDirect() : null;
    } catch (error) {
      await fh.close().catch(() => undefined);
      await fsp.rm(temp, { force: true });
      if (blocks) this.directBlocks?.giveBack(blocks);
      throw error;
    }
    const receiving = direct && blocks ? this.receivingWriter(fh, blocks, direct, hasher) : null;
    const writer: { settle(): Promise<void> } = receiving ?? (blocks ? new DirectChunkFileWriter(fh, blocks) : new BufferedChunkFileWriter(fh));
    let blocksHeld = blocks;
    // Blocks go back once no write reads them, before the fsync: they are the bound on direct writers.
    const releaseBlocks = async () => {
      await writer.settle();
      if (blocksHeld) this.directBlocks?.giveBack(blocksHeld);
      blocksHeld = null;
    };
    let sizeBytes = headBytes;
    let renamed = false;
    try {
      if (receiving && direct) {
        try {
          await direct.receive(receiving);
        } catch (error) {
          await receiving.settle();
          throw receiving.failure ?? new BodyAbortedError(error);
        }
        await receiving.finish();
        sizeBytes = receiving.bytesReceived;
      } else {
        await this.appendBody(writer as ChunkFileWriter, hasher, head, rest, headBytes);
        sizeBytes = hasher.bytesHashed;
      }
      await releaseBlocks();
      const actual = hasher.digest();
      if (actual !== hash) throw new ChunkHashMismatchError(hash, actual, sizeBytes);
      // The touch time goes in before the fsync so that it is as durable as the bytes.
      const writtenAt = new Date(this.nowMs());
      await fh.utimes(writtenAt, writtenAt);
      await fh.sync();
      await fh.close();
      return await this.locks.exclusive(hash, async () => {
        // Another PUT committed the same bytes meanwhile: this copy is not needed.
        if ((await this.sizeOf(hash)) !== null) return this.touchExisting(hash, sizeBytes);
        const final = this.chunkPath(hash);
        await ensureDirectoryDurably(path.dirname(final));
        await fsp.rename(temp, final);
        renamed = true;
        this.chunkFileCount++;
        this.chunkFileBytes += sizeBytes;
        await fsyncDirectory(path.dirname(final));
        return { hash, sizeBytes, existed: false, packed: false };
      });
    } finally {
      await releaseBlocks();
      if (!renamed) {
        await fh.close().catch(() => undefined);
        await fsp.rm(temp, { force: true });
      }
    }
  }

  /** Writes the head (hashed already) and the rest of the body, hashing it, through `writer`. */
  private async appendBody(writer: ChunkFileWriter, hasher: ContentHasher, head: readonly Uint8Array[], rest: AsyncIterator<Uint8Array> | null, headBytes: number): Promise<void> {
    let sizeBytes = headBytes;
    for (const piece of head) await writer.append(piece);
    if (rest) {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await rest.next();
        } catch (error) {
          throw wrapBodyError(error);
        }
        if (next.done) break;
        hasher.update(next.value);
        sizeBytes += next.value.byteLength;
        if (sizeBytes > this.maxChunkBytes) throw new ChunkTooLargeError(this.maxChunkBytes);
        await writer.append(next.value);
      }
    }
    await writer.finish();
  }

  /** A writer the body is received straight into; a failed write stops the body. */
  private receivingWriter(fh: FileHandle, blocks: readonly Buffer[], body: DirectBody, hasher: ContentHasher): ReceivingChunkFileWriter {
    return new ReceivingChunkFileWriter(fh, blocks, body.lengthBytes, hasher, {
      onBlockFree: () => body.more(),
      onWriteFailed: (error) => body.abort(error),
    });
  }

  /**
   * Reads the whole chunk with as few reads as the kernel allows into a pooled buffer and hashes
   * it before a byte is handed out. A corrupt chunk is quarantined and its stream errors, as a
   * streamed read's does. The buffer goes back to the pool on `done(true)` only.
   */
  private async readWhole(opened: OpenedChunkFile, handle: FileHandle, wanted: ByteRange, lease: ReadBufferLease): Promise<ChunkReadHandle> {
    const { hash, sizeBytes } = opened;
    let filled = 0;
    try {
      while (filled < sizeBytes) {
        const { bytesRead } = await handle.read(lease.bytes, filled, sizeBytes - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } catch (error) {
      lease.drop();
      throw error;
    } finally {
      await handle.close();
    }
    const data = lease.bytes.subarray(0, filled);
    const actual = contentHashOf(data);
    if (filled !== sizeBytes || actual !== hash) {
      lease.drop();
      const corrupt = this.quarantineFile(opened, `read ${filled} bytes hashing to ${actual}`);
      const failing = new Readable({ read: () => void corrupt.then((error) => failing.destroy(error), (error: Error) => failing.destroy(error)) });
      return { sizeBytes, range: wanted, stream: failing, done: () => undefined };
    }
    const slice = data.subarray(wanted.start, wanted.end);
    return {
      sizeBytes,
      range: wanted,
      stream: Readable.from(slice.length > 0 ? [slice] : []),
      done: (sent) => (sent ? lease.giveBack() : lease.drop()),
    };
  }

  /**
   * A whole chunk for a reader that hashes it itself: read into a pooled buffer WHOLE_READ_PIECE_BYTES
   * at a time, each piece handed on as soon as it is in, so the disk reads the next piece while the
   * last one is sent (one read of the whole chunk sent nothing until the disk had read all of it).
   * A file shorter than it was when opened is quarantined and its stream errors, so the response
   * is cut short. The buffer goes back to the pool on `done(true)` only.
   */
  private readWholeAsItLands(opened: OpenedChunkFile, handle: FileHandle, lease: ReadBufferLease): ChunkReadHandle {
    const { sizeBytes } = opened;
    const quarantine = (detail: string) => this.quarantineFile(opened, detail);
    async function* pieces(): AsyncGenerator<Buffer> {
      let filled = 0;
      try {
        while (filled < sizeBytes) {
          const { bytesRead } = await handle.read(lease.bytes, filled, Math.min(WHOLE_READ_PIECE_BYTES, sizeBytes - filled), filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
          yield lease.bytes.subarray(filled - bytesRead, filled);
        }
      } finally {
        await handle.close();
      }
      if (filled !== sizeBytes) throw await quarantine(`read ${filled} of its ${sizeBytes} bytes`);
    }
    return {
      sizeBytes,
      range: { start: 0, end: sizeBytes },
      stream: Readable.from(pieces(), { objectMode: false }),
      done: (sent) => (sent ? lease.giveBack() : lease.drop()),
    };
  }

  /**
   * Hashes the whole chunk, yields the bytes within `range`, and holds the last yielded slice back
   * until the hash has been checked: a corrupt chunk's response never completes.
   */
  private async *verifiedSlices(opened: OpenedChunkFile, source: AsyncIterable<Buffer>, range: ByteRange): AsyncGenerator<Buffer> {
    const hasher = new ContentHasher();
    let offset = 0;
    let held: Buffer | null = null;
    for await (const piece of source) {
      hasher.update(piece);
      const from = Math.max(range.start - offset, 0);
      const to = Math.min(range.end - offset, piece.length);
      offset += piece.length;
      if (from < to) {
        if (held) yield held;
        held = piece.subarray(from, to);
      }
    }
    const actual = hasher.digest();
    if (actual !== opened.hash) throw await this.quarantineFile(opened, `read ${offset} bytes hashing to ${actual}`);
    if (held) yield held;
  }

  private async readPacked(hash: ContentHash, range: ByteRange | null, foundAt: CorruptChunkFoundAt): Promise<ChunkReadHandle | null> {
    const found = await this.packs.readData(hash);
    if (!found) return null;
    const wanted = range ?? { start: 0, end: found.data.length };
    const actual = contentHashOf(found.data);
    const corrupt = !found.crcIntact || actual !== hash;
    const quarantine = corrupt
      ? this.quarantinePacked(hash, found, foundAt, `pack ${found.packId} record at ${found.recordOffset} hashes to ${actual}`)
      : null;
    const data = found.data;
    async function* body(): AsyncGenerator<Buffer> {
      if (quarantine) throw await quarantine;
      if (wanted.end > wanted.start) yield data.subarray(wanted.start, wanted.end);
    }
    return { sizeBytes: found.data.length, range: wanted, stream: Readable.from(body(), { objectMode: false }) };
  }

  /**
   * Moves the file that was read aside, holding the hash's lock so no PUT or delete interleaves.
   * A file that is no longer the one read (moved aside by another reader, then written anew by
   * a PUT) is left where it is.
   */
  private quarantineFile(opened: OpenedChunkFile, detail: string): Promise<ChunkCorruptError> {
    const { hash } = opened;
    return this.locks.exclusive(hash, async () => {
      const movedTo = path.join(this.options.dataDir, CORRUPT_DIR, `${hash}.${Date.now()}`);
      try {
        const stats = await fsp.stat(this.chunkPath(hash));
        if (stats.ino === opened.inode) {
          await fsp.rename(this.chunkPath(hash), movedTo);
          await fsyncDirectory(path.dirname(this.chunkPath(hash)));
          this.chunkFileCount--;
          this.chunkFileBytes -= stats.size;
        }
      } catch (error) {
        // Another reader moved it aside first; the report below still stands.
        if (!isNotFound(error)) throw error;
      }
      return this.reportCorrupt(hash, movedTo, detail, opened.foundAt);
    });
  }

  private quarantinePacked(hash: ContentHash, found: PackedChunkRead, foundAt: CorruptChunkFoundAt, detail: string): Promise<ChunkCorruptError> {
    return this.locks.exclusive(hash, async () => {
      const movedTo = path.join(this.options.dataDir, CORRUPT_DIR, `${hash}.${Date.now()}`);
      await fsp.writeFile(movedTo, found.data);
      if (isSameRecord(this.packs.entryOf(hash), found)) {
        await this.packs.remove(hash);
        this.packedTouchedAtMs.delete(hash);
      }
      return this.reportCorrupt(hash, movedTo, detail, foundAt);
    });
  }

  private reportCorrupt(hash: ContentHash, movedTo: string, detail: string, foundAt: CorruptChunkFoundAt): ChunkCorruptError {
    this.corruptFound++;
    this.options.corruptChunkReporter?.report({ hash, foundAt, movedTo, detail });
    return new ChunkCorruptError(hash, detail);
  }

  private chunkPath(hash: ContentHash): string {
    return path.join(this.options.dataDir, chunkRelativePath(hash));
  }

  private async scanChunkFiles(): Promise<void> {
    const root = path.join(this.options.dataDir, CHUNKS_DIR);
    for (const a of await sortedDirs(root)) {
      for (const b of await sortedDirs(path.join(root, a))) {
        for (const name of await fsp.readdir(path.join(root, a, b))) {
          if (!isContentHash(name)) continue;
          this.chunkFileCount++;
          this.chunkFileBytes += (await fsp.stat(path.join(root, a, b, name))).size;
        }
      }
    }
  }
}

/** Whether directory name `dir` (a hash prefix) can hold hashes matching prefix and after. */
function dirMayHold(dir: string, prefix: string, after: string): boolean {
  const n = Math.min(dir.length, prefix.length);
  if (dir.slice(0, n) !== prefix.slice(0, n)) return false;
  return dir >= after.slice(0, dir.length);
}

async function sortedDirs(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && /^[0-9a-f]{2}$/.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

function isSameRecord(entry: PackIndexEntry | undefined, read: PackedChunkRead): boolean {
  return entry !== undefined && entry.packId === read.packId && entry.recordOffset === read.recordOffset;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function wrapBodyError(error: unknown): unknown {
  if (error instanceof ChunkTooLargeError || error instanceof ChunkHashMismatchError) return error;
  return new BodyAbortedError(error);
}
