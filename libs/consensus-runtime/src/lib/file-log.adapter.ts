import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, write as writeAsync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStorage, type ConfState, type DurableReadyPart, type Entry, type HardState, type RaftDisk, type RaftStorage, type Snapshot } from '@cairn/consensus';
import { decodeRecord, encodeRecord } from './record-codec';
import { fsyncDirectory, SnapshotStoreAdapter } from './snapshot-store.adapter';

/** Log records carry a schema version so the format can evolve (upcast on read). */
export const LOG_RECORD_VERSION = 1;
export const DEFAULT_MAX_SEGMENT_BYTES = 8 * 1024 * 1024;
const SEGMENT_PATTERN = /^segment-(\d{10})\.log$/;

interface LogRecord {
  readonly v: number;
  readonly hardState?: HardState;
  readonly entries?: readonly Entry[];
}

export class CorruptLogError extends Error {
  constructor(file: string, reason: string) {
    super(`raft log ${file} is corrupt: ${reason}; refusing to start (a corrupt record before valid ones cannot be a torn write)`);
    this.name = 'CorruptLogError';
  }
}

export interface FileLogOptions {
  readonly dir: string;
  /** The configuration a brand-new log starts with. */
  readonly bootstrap?: ConfState;
  readonly maxSegmentBytes?: number;
}

export interface RecoveryReport {
  readonly segments: number;
  readonly records: number;
  readonly tornBytesTruncated: number;
  readonly snapshotIndex: number;
}

/** A Ready's record waiting for the disk, and who to tell once it is durable. */
interface PendingRecord {
  readonly bytes: Buffer;
  readonly ready: DurableReadyPart;
  /** Undefined for a record that needs no fsync (it was acknowledged when queued). */
  readonly onDurable: (() => void) | undefined;
}

/** How a write or fsync failure is reported: the process must stop (the page cache's state is unknown after a failed fsync). */
export class RaftLogWriteError extends Error {
  constructor(dir: string, cause: unknown) {
    super(`raft log ${dir}: write or fsync failed (${cause instanceof Error ? cause.message : String(cause)}); this node must stop`);
    this.name = 'RaftLogWriteError';
  }
}

/**
 * An fsync'd, append-only Raft log in numbered segment files with a CRC on every record, plus a
 * snapshot file. Reads are served from an in-memory copy (MemoryStorage) rebuilt on open.
 * Recovery truncates a torn tail (an incomplete or bad final record of the last segment) and
 * refuses a corrupt record that has valid data after it.
 *
 * As a `RaftDisk` it does not block: `write` queues the Ready's record and the log writes and
 * fsyncs on libuv's thread pool, then says durable. Records queued while an fsync is running go
 * to the disk together under the next one (group commit): one fsync for a batch of appends, and
 * the event loop keeps receiving messages and proposals meanwhile. A record that needs no fsync
 * (only the commit index moved) is acknowledged at once and written with the next batch.
 */
export class FileLogAdapter implements RaftStorage, RaftDisk {
  private readonly cache: MemoryStorage;
  private readonly snapshots: SnapshotStoreAdapter;
  private readonly maxSegmentBytes: number;
  private segmentNumber = 0;
  private segmentFd: number | undefined;
  private segmentBytes = 0;
  /** Records handed to `write` and not yet on the disk, in order. */
  private queue: PendingRecord[] = [];
  /** A batch is being written and fsync'd on the thread pool. */
  private flushing = false;
  private closeRequested = false;
  private failure: RaftLogWriteError | undefined;
  readonly recovery: RecoveryReport;

  private constructor(
    private readonly dir: string,
    bootstrap: ConfState,
    maxSegmentBytes: number,
  ) {
    this.cache = new MemoryStorage(bootstrap);
    this.snapshots = new SnapshotStoreAdapter(dir);
    this.maxSegmentBytes = maxSegmentBytes;
    this.recovery = this.recover();
  }

  static open(options: FileLogOptions): FileLogAdapter {
    mkdirSync(options.dir, { recursive: true });
    return new FileLogAdapter(options.dir, options.bootstrap ?? { voters: [] }, options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES);
  }

  // ---- RaftStorage (reads)
  initialState() {
    return this.cache.initialState();
  }
  entries(lo: number, hi: number, maxEntries: number) {
    return this.cache.entries(lo, hi, maxEntries);
  }
  term(index: number) {
    return this.cache.term(index);
  }
  firstIndex() {
    return this.cache.firstIndex();
  }
  lastIndex() {
    return this.cache.lastIndex();
  }
  snapshot() {
    return this.cache.snapshot();
  }

  /**
   * RaftDisk: queues the Ready's record and calls `onDurable` once it is written and fsync'd
   * (later, from the thread pool's completion), or at once when it needs no fsync. A snapshot
   * from the leader is rare and large: it is installed synchronously, after anything queued.
   */
  write(ready: DurableReadyPart, onDurable: () => void): void {
    if (this.failure) throw this.failure;
    if (ready.snapshot) {
      this.drainSync();
      this.save(ready);
      onDurable();
      return;
    }
    if (ready.entries.length === 0 && !ready.hardState) {
      onDurable();
      return;
    }
    const bytes = encodeRecord(toRecord(ready));
    if (!ready.mustSync) {
      // Only the commit index moved, which Raft never needs back from the disk: acknowledged now,
      // written with the next batch. Nothing that must be durable can be in flight here, since the
      // loop hands over its next Ready only after the previous one is durable.
      if (ready.hardState) this.cache.setHardState(ready.hardState);
      this.queue.push({ bytes, ready, onDurable: undefined });
      onDurable();
      return;
    }
    this.queue.push({ bytes, ready, onDurable });
    this.flush();
  }

  /** Records queued (not yet written) or being written: for tests and metrics. */
  get pendingRecords(): number {
    return this.queue.length + (this.flushing ? 1 : 0);
  }

  /**
   * Makes a Ready's snapshot, entries and hard state durable, blocking: returns only after fsync
   * when `ready.mustSync`. For recovery paths and tests; the Raft loop uses `write`.
   */
  save(ready: DurableReadyPart): void {
    if (ready.snapshot) this.installSnapshot(ready.snapshot);
    if (ready.entries.length === 0 && !ready.hardState) return;
    this.drainSync();
    const bytes = encodeRecord(toRecord(ready));
    if (this.segmentFd === undefined || this.segmentBytes + bytes.length > this.maxSegmentBytes) this.rollSegment();
    writeSync(this.segmentFd!, bytes);
    this.segmentBytes += bytes.length;
    if (ready.mustSync) fsyncSync(this.segmentFd!);
    this.cache.append(ready.entries);
    if (ready.hardState) this.cache.setHardState(ready.hardState);
  }

  /** Records the application's state at `index` and drops the log segments it covers. */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    this.drainSync();
    const snapshot = this.cache.createSnapshot(index, confState, data);
    this.snapshots.save(snapshot);
    this.cache.compact(index);
    this.dropCoveredSegments(index);
    return snapshot;
  }

  /**
   * Closes the segment. A batch still on its way to the disk finishes first (the file is closed
   * when it does); records queued behind it that need no fsync are written now.
   */
  close(): void {
    this.closeRequested = true;
    if (this.flushing) return;
    if (!this.failure) this.writeQueuedSync();
    if (this.segmentFd !== undefined) closeSync(this.segmentFd);
    this.segmentFd = undefined;
  }

  // ---- internals

  /**
   * Writes every queued record in one write and, if any of them must be durable, one fsync, off
   * the event loop; then updates the read side and says durable, in order. Records queued
   * meanwhile wait for the next batch.
   */
  private flush(): void {
    if (this.flushing || this.failure || !this.queue.some((r) => r.onDurable)) return;
    this.flushing = true;
    const batch = this.queue;
    this.queue = [];
    const bytes = batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((r) => r.bytes));
    if (this.segmentFd === undefined || this.segmentBytes + bytes.length > this.maxSegmentBytes) this.rollSegment();
    const fd = this.segmentFd!;
    this.segmentBytes += bytes.length;
    writeFully(fd, bytes, (writeError) => {
      if (writeError) return this.fail(writeError);
      fdatasync(fd, (syncError) => {
        if (syncError) return this.fail(syncError);
        this.flushing = false;
        for (const r of batch) {
          if (!r.onDurable) continue;
          this.cache.append(r.ready.entries);
          if (r.ready.hardState) this.cache.setHardState(r.ready.hardState);
        }
        if (this.closeRequested) {
          this.close();
          return;
        }
        for (const r of batch) r.onDurable?.();
        this.flush();
      });
    });
  }

  /** Writes what is queued now, blocking (before a snapshot or a synchronous save, which must come after it). */
  private drainSync(): void {
    if (this.failure) throw this.failure;
    if (this.flushing) throw new RaftLogWriteError(this.dir, 'a synchronous write while a batch is still being written (the caller must wait for onDurable)');
    if (this.queue.length === 0) return;
    const waiting = this.queue.filter((r) => r.onDurable);
    this.writeQueuedSync();
    if (waiting.length > 0) fsyncSync(this.segmentFd!);
    for (const r of waiting) {
      this.cache.append(r.ready.entries);
      if (r.ready.hardState) this.cache.setHardState(r.ready.hardState);
    }
    for (const r of waiting) r.onDurable!();
  }

  private writeQueuedSync(): void {
    if (this.queue.length === 0) return;
    const bytes = Buffer.concat(this.queue.map((r) => r.bytes));
    if (this.segmentFd === undefined || this.segmentBytes + bytes.length > this.maxSegmentBytes) this.rollSegment();
    writeSync(this.segmentFd!, bytes);
    this.segmentBytes += bytes.length;
    this.queue = [];
  }

  private fail(cause: unknown): void {
    this.failure = new RaftLogWriteError(this.dir, cause);
    // Never acknowledged, never retried: after a failed fsync the kernel may have dropped the
    // dirty pages, so nothing in this batch can be called durable. The node stops.
    throw this.failure;
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.snapshots.save(snapshot);
    this.cache.applySnapshot(snapshot);
    // Everything in the old segments is superseded by the snapshot: start a fresh segment.
    this.dropCoveredSegments(Number.MAX_SAFE_INTEGER);
  }

  private segments(): { file: string; number: number }[] {
    return readdirSync(this.dir)
      .map((file) => ({ file, match: SEGMENT_PATTERN.exec(file) }))
      .filter((s): s is { file: string; match: RegExpExecArray } => s.match !== null)
      .map((s) => ({ file: s.file, number: Number(s.match[1]) }))
      .sort((a, b) => a.number - b.number);
  }

  private rollSegment(): void {
    if (this.segmentFd !== undefined) {
      fsyncSync(this.segmentFd);
      closeSync(this.segmentFd);
    }
    this.segmentNumber++;
    this.segmentFd = openSync(join(this.dir, `segment-${String(this.segmentNumber).padStart(10, '0')}.log`), 'a');
    this.segmentBytes = 0;
    fsyncDirectory(this.dir);
  }

  /** Deletes whole segments whose every entry is at or below `index`, after rolling a new one. */
  private dropCoveredSegments(index: number): void {
    this.rollSegment();
    for (const seg of this.segments()) {
      if (seg.number === this.segmentNumber) continue;
      const path = join(this.dir, seg.file);
      if (maxEntryIndex(readFileSync(path)) > index) break;
      rmSync(path);
    }
    fsyncDirectory(this.dir);
    // The hard state lived in the dropped segments too: restate it in the fresh one.
    this.save({ entries: [], hardState: this.cache.initialState().hardState, mustSync: true });
  }

  private recover(): RecoveryReport {
    const snapshot = this.snapshots.load();
    if (snapshot) this.cache.applySnapshot(snapshot);
    const snapshotIndex = snapshot?.metadata.index ?? 0;
    const segments = this.segments();
    let records = 0;
    let tornBytesTruncated = 0;
    segments.forEach((seg, i) => {
      const path = join(this.dir, seg.file);
      const buffer = readFileSync(path);
      const isLast = i === segments.length - 1;
      let offset = 0;
      for (;;) {
        const r = decodeRecord(buffer, offset);
        if (r.kind === 'end') break;
        if (r.kind === 'record') {
          this.replay(r.payload as LogRecord);
          records++;
          offset = r.nextOffset;
          continue;
        }
        // A bad record is a torn write only if it is the very last thing in the log.
        const isTail = isLast && (r.kind === 'torn' || !hasValidRecordAfter(buffer, offset));
        if (!isTail) throw new CorruptLogError(seg.file, r.kind === 'corrupt' ? r.reason : `incomplete record at ${offset} in a sealed segment`);
        tornBytesTruncated = buffer.length - offset;
        truncateSync(path, offset);
        break;
      }
    });
    this.segmentNumber = segments.length > 0 ? segments[segments.length - 1].number : 0;
    if (segments.length > 0) {
      this.segmentFd = openSync(join(this.dir, segments[segments.length - 1].file), 'a');
      this.segmentBytes = readFileSync(join(this.dir, segments[segments.length - 1].file)).length;
      if (tornBytesTruncated > 0) fsyncSync(this.segmentFd);
    }
    return { segments: segments.length, records, tornBytesTruncated, snapshotIndex };
  }

  private replay(record: LogRecord): void {
    if (record.v !== LOG_RECORD_VERSION) throw new Error(`unknown log record version ${record.v}`);
    if (record.entries && record.entries.length > 0) {
      const last = record.entries[record.entries.length - 1].index;
      if (last > this.cache.snapshot().metadata.index) this.cache.append(record.entries);
    }
    if (record.hardState) this.cache.setHardState(record.hardState);
  }
}

function toRecord(ready: DurableReadyPart): LogRecord {
  return { v: LOG_RECORD_VERSION, hardState: ready.hardState, entries: ready.entries.length > 0 ? ready.entries : undefined };
}

/** fs.write until every byte is written (a short write is possible in principle). */
function writeFully(fd: number, bytes: Buffer, done: (error: Error | null) => void, offset = 0): void {
  writeAsync(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
    if (error) return done(error);
    if (offset + written < bytes.length) return writeFully(fd, bytes, done, offset + written);
    done(null);
  });
}

function maxEntryIndex(buffer: Buffer): number {
  let max = 0;
  let offset = 0;
  for (;;) {
    const r = decodeRecord(buffer, offset);
    if (r.kind !== 'record') return max;
    const entries = (r.payload as LogRecord).entries;
    if (entries && entries.length > 0) max = Math.max(max, entries[entries.length - 1].index);
    offset = r.nextOffset;
  }
}

/** Scans forward byte by byte for any record that decodes: evidence of data after a bad one. */
function hasValidRecordAfter(buffer: Buffer, badOffset: number): boolean {
  for (let offset = badOffset + 1; offset + 8 <= buffer.length; offset++) {
    if (decodeRecord(buffer, offset).kind === 'record') return true;
  }
  return false;
}
