import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { contentHashOf, type ContentHash } from '@cairn/hashing';
import { PACK_MAX_SIZE_BYTES, packFileName, parsePackFileName } from '../domain/chunk-layout';
import {
  PACK_RECORD_HEADER_BYTES,
  PackRecordKind,
  decodePackRecordHeader,
  encodePackRecord,
  packRecordIntact,
  type PackIndexEntry,
} from '../domain/pack-record';
import { fsyncDirectory } from './durable-fs';

export interface PackStoreOptions {
  readonly dir: string;
  readonly maxRecordBytes: number;
  readonly groupCommitWindowMs: number;
  readonly groupCommitMaxBytes: number;
}

export interface PackRecoveryReport {
  readonly packs: number;
  readonly records: number;
  /** Bytes cut off the end of packs because they held no whole, intact record. */
  readonly tornBytesCut: number;
}

interface PendingAppend {
  readonly kind: PackRecordKind;
  readonly hash: ContentHash;
  readonly record: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface PackFile {
  readonly id: number;
  readonly handle: FileHandle;
  sizeBytes: number;
  liveBytes: number;
}

/**
 * Small chunks in append-only pack files with group commit (docs/architecture.md §3, Small chunks):
 * appends that arrive within a short window, or until enough bytes are queued, go out in one
 * write and share one fsync; each caller is answered only after that fsync. The index (hash →
 * pack, offset, length, CRC) lives in memory and is rebuilt from the packs on open; a torn tail
 * is cut off. Compaction of packs whose live bytes have fallen low is not built yet: `usage`
 * reports live and file bytes so that a compaction worker can choose its packs.
 */
export class PackStore {
  private readonly index = new Map<ContentHash, PackIndexEntry>();
  private readonly packs = new Map<number, PackFile>();
  private active!: PackFile;
  private queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private liveBytesTotal = 0;
  private groupCommits = 0;
  private recordsCommitted = 0;

  private constructor(private readonly options: PackStoreOptions) {}

  static async open(options: PackStoreOptions): Promise<{ store: PackStore; recovery: PackRecoveryReport }> {
    const store = new PackStore(options);
    const recovery = await store.recover();
    return { store, recovery };
  }

  has(hash: ContentHash): boolean {
    return this.index.has(hash);
  }

  entryOf(hash: ContentHash): PackIndexEntry | undefined {
    return this.index.get(hash);
  }

  hashes(): IterableIterator<ContentHash> {
    return this.index.keys();
  }

  get chunkCount(): number {
    return this.index.size;
  }

  usage(): { packCount: number; packFileBytes: number; packLiveBytes: number; groupCommits: number; recordsCommitted: number } {
    let packFileBytes = 0;
    for (const p of this.packs.values()) packFileBytes += p.sizeBytes;
    return {
      packCount: this.packs.size,
      packFileBytes,
      packLiveBytes: this.liveBytesTotal,
      groupCommits: this.groupCommits,
      recordsCommitted: this.recordsCommitted,
    };
  }

  /** Resolves once the chunk is durable in a pack. `data` must already be verified against `hash`. */
  append(hash: ContentHash, data: Uint8Array): Promise<void> {
    return this.enqueue(PackRecordKind.Chunk, hash, encodePackRecord(PackRecordKind.Chunk, hash, data));
  }

  /** Resolves once the deletion is durable; false if the chunk was not here. */
  async remove(hash: ContentHash): Promise<boolean> {
    if (!this.index.has(hash)) return false;
    await this.enqueue(PackRecordKind.Tombstone, hash, encodePackRecord(PackRecordKind.Tombstone, hash, new Uint8Array(0)));
    return true;
  }

  /** The raw bytes of a packed chunk and whether its CRC holds; the caller verifies the hash. */
  async readData(hash: ContentHash): Promise<{ data: Buffer; crcIntact: boolean; recordOffset: number; packId: number } | null> {
    const entry = this.index.get(hash);
    if (!entry) return null;
    const pack = this.packs.get(entry.packId);
    if (!pack) throw new Error(`pack ${entry.packId} of chunk ${hash} is not open`);
    const record = Buffer.allocUnsafe(PACK_RECORD_HEADER_BYTES + entry.lengthBytes);
    const { bytesRead } = await pack.handle.read(record, 0, record.length, entry.recordOffset);
    const header = record.subarray(0, PACK_RECORD_HEADER_BYTES);
    const data = record.subarray(PACK_RECORD_HEADER_BYTES, bytesRead);
    const decoded = decodePackRecordHeader(header, this.options.maxRecordBytes);
    const crcIntact = bytesRead === record.length && decoded !== null && decoded.hash === hash && packRecordIntact(header, data, entry.crc);
    return { data, crcIntact, recordOffset: entry.recordOffset, packId: entry.packId };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushNow();
    this.closed = true;
    for (const p of this.packs.values()) await p.handle.close();
    this.packs.clear();
  }

  private enqueue(kind: PackRecordKind, hash: ContentHash, record: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('pack store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind, hash, record, resolve, reject });
      this.queuedBytes += record.length;
      if (this.queuedBytes >= this.options.groupCommitMaxBytes) void this.flushNow();
      else if (!this.timer) this.timer = setTimeout(() => void this.flushNow(), this.options.groupCommitWindowMs);
    });
  }

  /** One flush at a time; appends arriving meanwhile form the next group. */
  private async flushNow(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
    if (this.queue.length > 0 && !this.timer) this.timer = setTimeout(() => void this.flushNow(), this.options.groupCommitWindowMs);
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    try {
      if (this.active.sizeBytes >= PACK_MAX_SIZE_BYTES) await this.rollPack();
      const pack = this.active;
      const startBytes = pack.sizeBytes;
      try {
        await writeAllAt(pack.handle, batch.map((b) => b.record), startBytes);
        await pack.handle.datasync();
      } catch (error) {
        // Leave no half-written group behind the good records: later appends must follow them.
        await pack.handle.truncate(startBytes).catch(() => undefined);
        throw error;
      }
      let offset = startBytes;
      for (const item of batch) {
        this.apply(pack, item.kind, item.hash, offset, item.record.length - PACK_RECORD_HEADER_BYTES, item.record.readUInt32BE(44));
        offset += item.record.length;
      }
      pack.sizeBytes = offset;
      this.groupCommits++;
      this.recordsCommitted += batch.length;
      for (const item of batch) item.resolve();
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }

  private apply(pack: PackFile, kind: PackRecordKind, hash: ContentHash, recordOffset: number, lengthBytes: number, crc: number): void {
    const previous = this.index.get(hash);
    if (kind === PackRecordKind.Tombstone) {
      if (previous) this.drop(hash, previous);
      return;
    }
    if (previous) return;
    this.index.set(hash, { packId: pack.id, recordOffset, dataOffset: recordOffset + PACK_RECORD_HEADER_BYTES, lengthBytes, crc });
    pack.liveBytes += lengthBytes;
    this.liveBytesTotal += lengthBytes;
  }

  private drop(hash: ContentHash, entry: PackIndexEntry): void {
    this.index.delete(hash);
    const p = this.packs.get(entry.packId);
    if (p) p.liveBytes -= entry.lengthBytes;
    this.liveBytesTotal -= entry.lengthBytes;
  }

  private async rollPack(): Promise<void> {
    const id = this.active ? this.active.id + 1 : 1;
    const handle = await fsp.open(path.join(this.options.dir, packFileName(id)), 'a+');
    await fsyncDirectory(this.options.dir);
    this.active = { id, handle, sizeBytes: 0, liveBytes: 0 };
    this.packs.set(id, this.active);
  }

  private async recover(): Promise<PackRecoveryReport> {
    await fsp.mkdir(this.options.dir, { recursive: true });
    const ids = (await fsp.readdir(this.options.dir))
      .map(parsePackFileName)
      .filter((id): id is number => id !== null)
      .sort((a, b) => a - b);
    let records = 0;
    let tornBytesCut = 0;
    for (const id of ids) {
      const handle = await fsp.open(path.join(this.options.dir, packFileName(id)), 'r+');
      const pack: PackFile = { id, handle, sizeBytes: 0, liveBytes: 0 };
      this.packs.set(id, pack);
      const fileBytes = (await handle.stat()).size;
      const header = Buffer.alloc(PACK_RECORD_HEADER_BYTES);
      let offset = 0;
      while (offset < fileBytes) {
        const h = await handle.read(header, 0, PACK_RECORD_HEADER_BYTES, offset);
        const decoded = h.bytesRead === PACK_RECORD_HEADER_BYTES ? decodePackRecordHeader(header, this.options.maxRecordBytes) : null;
        if (!decoded || offset + PACK_RECORD_HEADER_BYTES + decoded.lengthBytes > fileBytes) break;
        const data = Buffer.allocUnsafe(decoded.lengthBytes);
        await handle.read(data, 0, decoded.lengthBytes, offset + PACK_RECORD_HEADER_BYTES);
        if (!packRecordIntact(header, data, decoded.crc)) break;
        if (decoded.kind === PackRecordKind.Chunk && contentHashOf(data) !== decoded.hash) break;
        this.apply(pack, decoded.kind, decoded.hash, offset, decoded.lengthBytes, decoded.crc);
        records++;
        offset += PACK_RECORD_HEADER_BYTES + decoded.lengthBytes;
      }
      if (offset < fileBytes) {
        // Appends are acknowledged only after their fsync, so bytes past the last whole record
        // were never acknowledged: a crash tore them. Cut them so the next append follows good data.
        await handle.truncate(offset);
        await handle.sync();
        tornBytesCut += fileBytes - offset;
      }
      pack.sizeBytes = offset;
      this.active = pack;
    }
    if (!this.active) await this.rollPack();
    else if (this.active.sizeBytes >= PACK_MAX_SIZE_BYTES) await this.rollPack();
    return { packs: this.packs.size, records, tornBytesCut };
  }
}

async function writeAllAt(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const whole = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, total);
  let written = 0;
  while (written < total) {
    const { bytesWritten } = await handle.write(whole, written, total - written, position + written);
    written += bytesWritten;
  }
}
