import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
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

/**
 * An fsync'd, append-only Raft log in numbered segment files with a CRC on every record, plus a
 * snapshot file. Reads are served from an in-memory copy (MemoryStorage) rebuilt on open.
 * Recovery truncates a torn tail (an incomplete or bad final record of the last segment) and
 * refuses a corrupt record that has valid data after it.
 */
export class FileLogAdapter implements RaftStorage, RaftDisk {
  private readonly cache: MemoryStorage;
  private readonly snapshots: SnapshotStoreAdapter;
  private readonly maxSegmentBytes: number;
  private segmentNumber = 0;
  private segmentFd: number | undefined;
  private segmentBytes = 0;
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

  /** RaftDisk: a blocking disk, so the write is durable (and `onDurable` called) before this returns. */
  write(ready: DurableReadyPart, onDurable: () => void): void {
    this.save(ready);
    onDurable();
  }

  /**
   * Makes a Ready's snapshot, entries and hard state durable. Returns only after fsync when
   * `ready.mustSync`, so the caller may then send votes and acknowledgements.
   */
  save(ready: DurableReadyPart): void {
    if (ready.snapshot) this.installSnapshot(ready.snapshot);
    if (ready.entries.length === 0 && !ready.hardState) return;
    const record: LogRecord = { v: LOG_RECORD_VERSION, hardState: ready.hardState, entries: ready.entries.length > 0 ? ready.entries : undefined };
    const bytes = encodeRecord(record);
    if (this.segmentFd === undefined || this.segmentBytes + bytes.length > this.maxSegmentBytes) this.rollSegment();
    writeSync(this.segmentFd!, bytes);
    this.segmentBytes += bytes.length;
    if (ready.mustSync) fsyncSync(this.segmentFd!);
    this.cache.append(ready.entries);
    if (ready.hardState) this.cache.setHardState(ready.hardState);
  }

  /** Records the application's state at `index` and drops the log segments it covers. */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    const snapshot = this.cache.createSnapshot(index, confState, data);
    this.snapshots.save(snapshot);
    this.cache.compact(index);
    this.dropCoveredSegments(index);
    return snapshot;
  }

  close(): void {
    if (this.segmentFd !== undefined) closeSync(this.segmentFd);
    this.segmentFd = undefined;
  }

  // ---- internals

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
