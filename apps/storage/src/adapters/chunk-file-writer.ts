import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { types } from 'node:util';
import type { ContentHasher } from '@cairn/hashing';
import type { BodyWindows } from '../domain/chunk-store.port';
import { DIRECT_IO_ALIGNMENT_BYTES, DIRECT_WRITE_BLOCK_BYTES, DIRECT_WRITE_BLOCK_COUNT, WRITE_COALESCE_BYTES } from '../domain/chunk-layout';

/** Where a chunk file's bytes go, in order, while its body arrives. */
export interface ChunkFileWriter {
  append(piece: Uint8Array): Promise<void>;
  /** Everything appended is in the file (not yet fsync'd) and the file is exactly that long. */
  finish(): Promise<void>;
  /** Waits for any write still in flight, failed or not; call before giving up on the file. */
  settle(): Promise<void>;
}

/** Blocks a direct writer holds: one fills while the other is written. */
const BLOCKS_PER_DIRECT_WRITER = 2;
const WASM_PAGE_BYTES = 64 * 1024;

/** The part of the WebAssembly global used here (the workspace's lib settings do not declare it). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
};

/**
 * Page-aligned blocks for O_DIRECT writes. Node cannot allocate aligned memory, but a
 * WebAssembly memory starts on a page boundary, so blocks carved from one at multiples of the
 * block size satisfy O_DIRECT's alignment. The memory is reserved once and kept.
 */
export class AlignedBlockPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly blockBytes: number,
    readonly blockCount: number,
  ) {
    if (!Number.isSafeInteger(blockBytes) || blockBytes <= 0 || blockBytes % WASM_PAGE_BYTES !== 0) {
      throw new RangeError(`aligned block size ${blockBytes} must be a positive multiple of ${WASM_PAGE_BYTES}`);
    }
    if (!Number.isSafeInteger(blockCount) || blockCount <= 0) throw new RangeError(`aligned block count ${blockCount} must be a positive integer`);
    const pages = (blockBytes * blockCount) / WASM_PAGE_BYTES;
    const memory = Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer);
    for (let i = 0; i < blockCount; i++) this.free.push(memory.subarray(i * blockBytes, (i + 1) * blockBytes));
  }

  get freeCount(): number {
    return this.free.length;
  }

  /** `count` blocks, or null when fewer are free. */
  tryTake(count: number): Buffer[] | null {
    if (this.free.length < count) return null;
    return this.free.splice(this.free.length - count, count);
  }

  giveBack(blocks: readonly Buffer[]): void {
    this.free.push(...blocks);
  }
}

let processBlocks: AlignedBlockPool | null | undefined;

/**
 * The process's aligned blocks, made on first use; null when this runtime cannot make them.
 * One pool per process, not per store: each WebAssembly memory reserves gigabytes of address
 * space, and a test process opens many stores.
 */
export function processDirectWriteBlocks(): AlignedBlockPool | null {
  if (processBlocks === undefined) {
    try {
      processBlocks = fsConstants.O_DIRECT === undefined ? null : new AlignedBlockPool(DIRECT_WRITE_BLOCK_BYTES, DIRECT_WRITE_BLOCK_COUNT);
    } catch {
      processBlocks = null;
    }
  }
  return processBlocks;
}

/** Flags for a new chunk file written with O_DIRECT (as 'wx' plus O_DIRECT). */
export function directCreateFlags(): number {
  return fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | (fsConstants.O_DIRECT ?? 0);
}

/**
 * Whether files in `dir` take O_DIRECT writes from `pool`'s blocks (tmpfs and some others
 * refuse the flag): writes one aligned block to a scratch file and removes it.
 */
export async function directWritesWork(dir: string, pool: AlignedBlockPool): Promise<boolean> {
  const blocks = pool.tryTake(1);
  if (!blocks) return false;
  const probe = `${dir}/direct-io-probe.${process.pid}.part`;
  try {
    const fh = await fsp.open(probe, directCreateFlags());
    try {
      await writeFully(fh, blocks[0], DIRECT_IO_ALIGNMENT_BYTES, 0);
    } finally {
      await fh.close();
    }
    return true;
  } catch {
    return false;
  } finally {
    pool.giveBack(blocks);
    await fsp.rm(probe, { force: true });
  }
}

/**
 * Gathers the body's pieces and writes them with one writev per WRITE_COALESCE_BYTES, through
 * the page cache.
 */
export class BufferedChunkFileWriter implements ChunkFileWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly fh: FileHandle) {}

  async append(piece: Uint8Array): Promise<void> {
    this.pending.push(piece);
    this.pendingBytes += piece.byteLength;
    if (this.pendingBytes >= WRITE_COALESCE_BYTES) await this.flush();
  }

  finish(): Promise<void> {
    return this.flush();
  }

  async settle(): Promise<void> {
    // Every write was awaited where it was made.
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes > 0) await writevAll(this.fh, this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * Copies the body into aligned blocks and writes each full block with O_DIRECT while the next
 * one fills. The page cache is bypassed: on this kind of machine a buffered write spends more
 * system time finding fresh pages than the device spends writing them, and a chunk that is
 * fsync'd at once gains nothing from lingering in the cache. The last block is padded to the
 * alignment and the file cut back to its length. Give the blocks back only after `settle()`.
 */
export class DirectChunkFileWriter implements ChunkFileWriter {
  private filling: Buffer;
  private spare: Buffer;
  private filled = 0;
  private fileOffset = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly fh: FileHandle,
    readonly blocks: readonly Buffer[],
  ) {
    if (blocks.length !== BLOCKS_PER_DIRECT_WRITER) throw new RangeError(`a direct writer takes ${BLOCKS_PER_DIRECT_WRITER} blocks, not ${blocks.length}`);
    [this.filling, this.spare] = blocks;
  }

  static readonly blockCount = BLOCKS_PER_DIRECT_WRITER;

  async append(piece: Uint8Array): Promise<void> {
    let from = 0;
    while (from < piece.byteLength) {
      const n = Math.min(piece.byteLength - from, this.filling.length - this.filled);
      this.filling.set(piece.subarray(from, from + n), this.filled);
      this.filled += n;
      from += n;
      if (this.filled === this.filling.length) await this.writeFilled(this.filled);
    }
  }

  async finish(): Promise<void> {
    const sizeBytes = this.fileOffset + this.filled;
    const padded = Math.ceil(this.filled / DIRECT_IO_ALIGNMENT_BYTES) * DIRECT_IO_ALIGNMENT_BYTES;
    if (padded > 0) {
      this.filling.fill(0, this.filled, padded);
      await this.writeFilled(padded);
    }
    await this.writing;
    if (padded !== this.filled) await this.fh.truncate(sizeBytes);
  }

  async settle(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  /** Starts writing the filling block's first `length` bytes once the previous write is done, and swaps blocks. */
  private async writeFilled(length: number): Promise<void> {
    await this.writing;
    const block = this.filling;
    this.writing = writeFully(this.fh, block, length, this.fileOffset);
    // Seen by the next writeFilled, finish or settle; not an unhandled rejection meanwhile.
    this.writing.catch(() => undefined);
    this.fileOffset += length;
    this.filling = this.spare;
    this.spare = block;
    this.filled = 0;
  }
}

/**
 * Lends its two aligned blocks to a body received straight into them (BodyWindows, a socket read
 * by the node itself): the bytes are hashed as they land, each full block is written with
 * O_DIRECT while the other fills, and while both are being written no window is lent (the body
 * stops reading; `onBlockFree` tells it when one is free again). One write at a time, in order;
 * the last block is padded to the alignment and the file cut back to its length in `finish`.
 * Give the blocks back only after the body has settled and `settle()` has resolved.
 */
export class ReceivingChunkFileWriter implements BodyWindows {
  private current = 0;
  private filled = 0;
  private fileOffset = 0;
  private received = 0;
  private readonly busy = [false, false];
  private lent: Buffer | null = null;
  private waitingForBlock = false;
  private writing: Promise<void> = Promise.resolve();
  private failed: Error | null = null;

  constructor(
    private readonly fh: FileHandle,
    private readonly blocks: readonly Buffer[],
    readonly lengthBytes: number,
    private readonly hasher: ContentHasher,
    private readonly events: { readonly onBlockFree: () => void; readonly onWriteFailed: (error: Error) => void },
  ) {
    if (blocks.length !== BLOCKS_PER_DIRECT_WRITER) throw new RangeError(`a receiving writer takes ${BLOCKS_PER_DIRECT_WRITER} blocks, not ${blocks.length}`);
  }

  static readonly blockCount = BLOCKS_PER_DIRECT_WRITER;

  /** The write that failed, if one did. */
  get failure(): Error | null {
    return this.failed;
  }

  get bytesReceived(): number {
    return this.received;
  }

  next(): Uint8Array | null {
    if (this.failed || this.received >= this.lengthBytes) return null;
    if (this.busy[this.current]) {
      this.waitingForBlock = true;
      return null;
    }
    const block = this.blocks[this.current];
    this.lent = block.subarray(this.filled, Math.min(block.length, this.filled + (this.lengthBytes - this.received)));
    return this.lent;
  }

  landed(count: number): void {
    const lent = this.lent;
    if (!lent || count <= 0 || count > lent.length) throw new RangeError(`${count} bytes landed in a window of ${lent?.length ?? 0}`);
    this.hasher.update(lent.subarray(0, count));
    this.lent = null;
    this.filled += count;
    this.received += count;
    if (this.filled === this.blocks[this.current].length || this.received === this.lengthBytes) this.writeCurrent();
  }

  /** Every byte is in the file (not yet fsync'd) and the file is exactly `lengthBytes` long; throws the failed write's error. */
  async finish(): Promise<void> {
    await this.writing;
    if (this.failed) throw this.failed;
    if (this.received !== this.lengthBytes) throw new Error(`${this.received} of ${this.lengthBytes} bytes received`);
    if (this.fileOffset !== this.received) await this.fh.truncate(this.received);
  }

  /** Waits for the writes still in flight. */
  settle(): Promise<void> {
    return this.writing;
  }

  private writeCurrent(): void {
    const index = this.current;
    const block = this.blocks[index];
    let length = this.filled;
    if (this.received === this.lengthBytes) {
      const padded = Math.ceil(length / DIRECT_IO_ALIGNMENT_BYTES) * DIRECT_IO_ALIGNMENT_BYTES;
      block.fill(0, length, padded);
      length = padded;
    }
    const position = this.fileOffset;
    this.fileOffset += length;
    this.busy[index] = true;
    this.current = index ^ 1;
    this.filled = 0;
    this.writing = this.writing.then(async () => {
      if (this.failed) return;
      try {
        await writeFully(this.fh, block, length, position);
      } catch (error) {
        // isNativeError, not instanceof: an fs error from another realm (jest's sandbox) keeps its code (ENOSPC: 507).
        this.failed = types.isNativeError(error) ? error : new Error(String(error));
        this.events.onWriteFailed(this.failed);
        return;
      }
      this.busy[index] = false;
      if (this.waitingForBlock) {
        this.waitingForBlock = false;
        this.events.onBlockFree();
      }
    });
  }
}

async function writeFully(fh: FileHandle, block: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(block, done, length - done, position + done);
    if (bytesWritten === 0) throw new Error(`a write at ${position + done} made no progress`);
    done += bytesWritten;
  }
}

async function writevAll(fh: FileHandle, buffers: Uint8Array[], total: number): Promise<void> {
  let { bytesWritten } = await fh.writev(buffers);
  if (bytesWritten === total) return;
  const remainder = Buffer.concat(buffers, total).subarray(bytesWritten);
  let done = 0;
  while (done < remainder.length) {
    ({ bytesWritten } = await fh.write(remainder, done, remainder.length - done));
    done += bytesWritten;
  }
}
