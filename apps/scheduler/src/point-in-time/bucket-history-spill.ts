import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { bucketToken, type HistoryEvent } from '@cairn/protocol';

/** A bucket's keys folded from a backup at most (memory: the key and where its events lie in the spill file). */
export const BACKUP_HISTORY_KEYS_MAX = 1_000_000;
/** Lines gathered before they are appended to the spill file. */
const SPILL_WRITE_BYTES = 1024 * 1024;

/** A key of the bucket's history: its events are in the spill file, read back a page at a time (eventsOf). */
export interface KeyEventsRef {
  readonly key: string;
  /** Bytes of its events as stored lines: what sending them costs. */
  readonly bytes: number;
}

export interface KeyEvents {
  readonly key: string;
  readonly events: HistoryEvent[];
}

interface KeyEntry extends KeyEventsRef {
  bytes: number;
  /** Offset and length of each of its events' lines in the spill file, in stream order. */
  readonly spans: number[];
}

/** What the history holds in memory of the keys' events, for the bound test and the logs. */
export interface HeldEvents {
  /** Event lines held at once at most while they were read back: one page's. */
  readonly peakEventBytes: number;
  readonly peakKeys: number;
}

/**
 * A bucket's history as of a moment (from a backup's segments and the live log after its cut),
 * with memory bounded by a page, not by the bucket: the keys' events go to a temporary file as they
 * are read (inline bodies and all) and only an index stays in memory — each key and where its
 * events lie. A restore or a listing then reads back the events of one page of keys at a time
 * (eventsOf). The bucket's own events (its settings, a handful) are kept in memory.
 */
export class BucketHistorySpill {
  readonly bucketEvents: HistoryEvent[] = [];
  private readonly bucketSubject: string;
  private readonly objectPrefix: string;
  private readonly byKeyId = new Map<string, KeyEntry>();
  private sorted: KeyEntry[] | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private fileBytes = 0;
  private read = 0;
  private peakEventBytes = 0;
  private peakKeys = 0;

  private constructor(
    readonly bucket: string,
    private readonly prefix: string,
    private readonly atMs: number,
    private readonly dir: string,
    private readonly file: FileHandle,
  ) {
    this.bucketSubject = `meta.bucket.${bucketToken(bucket)}`;
    this.objectPrefix = `meta.object.${bucketToken(bucket)}.`;
  }

  /**
   * `owner` names the process (namespace and instance) in the directory's name, so that process
   * can remove what a crash of its own left behind (removeLeftovers) without touching another's.
   */
  static async open(bucket: string, prefix: string, atMs: number, where: SpillPlace): Promise<BucketHistorySpill> {
    const dir = await fsp.mkdtemp(path.join(where.tmpDir ?? os.tmpdir(), spillDirPrefix(where.owner)));
    try {
      return new BucketHistorySpill(bucket, prefix, atMs, dir, await fsp.open(path.join(dir, 'events.ndjson'), 'w+'));
    } catch (error) {
      await fsp.rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * One stored event (a segment line: `{"seq","subject","event"}`, subject relative to the
   * namespace), in stream order. Events of other buckets, after the moment or of keys outside the
   * prefix are left out, and so are events past `throughSequence` (a backup's cut).
   */
  async add(line: string, throughSequence = Number.MAX_SAFE_INTEGER): Promise<void> {
    const parsed = JSON.parse(line) as { readonly seq: number; readonly subject: string; readonly event: HistoryEvent['event'] };
    if (parsed.seq > throughSequence) return;
    const isBucket = parsed.subject === this.bucketSubject;
    if (!isBucket && !parsed.subject.startsWith(this.objectPrefix)) return;
    this.read++;
    if (Date.parse(parsed.event.occurredAt) > this.atMs) return;
    if (isBucket) {
      this.bucketEvents.push({ seq: parsed.seq, event: parsed.event });
      return;
    }
    const keyId = parsed.subject.slice(this.objectPrefix.length);
    let entry = this.byKeyId.get(keyId);
    if (!entry) {
      const key = String(parsed.event.data?.['key'] ?? '');
      if (!key.startsWith(this.prefix)) return;
      if (this.byKeyId.size >= BACKUP_HISTORY_KEYS_MAX) throw new Error(`bucket ${this.bucket} has more than ${BACKUP_HISTORY_KEYS_MAX} keys in its history: restore it by prefix`);
      entry = { key, bytes: Buffer.byteLength(key), spans: [] };
      this.byKeyId.set(keyId, entry);
    }
    const bytes = Buffer.from(line, 'utf8');
    entry.spans.push(this.fileBytes + this.pendingBytes, bytes.length);
    entry.bytes += bytes.length;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= SPILL_WRITE_BYTES) await this.flush();
  }

  /** Events of the bucket's subjects seen (before the moment or not). */
  get eventsRead(): number {
    return this.read;
  }

  /** The keys under the prefix with an event at or before the moment, in UTF-8 byte order (S3's, and Postgres' "C"). */
  async keys(): Promise<readonly KeyEventsRef[]> {
    if (this.sorted === null) {
      await this.flush();
      this.sorted = [...this.byKeyId.values()].sort((a, b) => compareKeys(a.key, b.key));
      this.byKeyId.clear();
    }
    return this.sorted;
  }

  /** The events of the keys given, read back from the spill file. */
  async eventsOf(keys: readonly KeyEventsRef[]): Promise<KeyEvents[]> {
    await this.flush();
    let held = 0;
    const out: KeyEvents[] = [];
    for (const ref of keys) {
      const spans = (ref as KeyEntry).spans;
      if (!spans) throw new Error(`key ${ref.key} is not one of this history's`);
      const events: HistoryEvent[] = [];
      for (let i = 0; i < spans.length; i += 2) {
        const buffer = Buffer.allocUnsafe(spans[i + 1]);
        const { bytesRead } = await this.file.read(buffer, 0, buffer.length, spans[i]);
        if (bytesRead !== buffer.length) throw new Error(`the restore's history file ended early (${bytesRead} of ${buffer.length} bytes at ${spans[i]})`);
        held += buffer.length;
        const stored = JSON.parse(buffer.toString('utf8')) as { readonly seq: number; readonly event: HistoryEvent['event'] };
        events.push({ seq: stored.seq, event: stored.event });
      }
      out.push({ key: ref.key, events });
    }
    this.peakEventBytes = Math.max(this.peakEventBytes, held);
    this.peakKeys = Math.max(this.peakKeys, keys.length);
    return out;
  }

  held(): HeldEvents {
    return { peakEventBytes: this.peakEventBytes, peakKeys: this.peakKeys };
  }

  /** Bytes of key events written to the spill file. */
  get spilledBytes(): number {
    return this.fileBytes + this.pendingBytes;
  }

  async close(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.close().catch(() => undefined);
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let written = 0;
    while (written < chunk.length) written += (await this.file.write(chunk, written, chunk.length - written, this.fileBytes + written)).bytesWritten;
    this.fileBytes += chunk.length;
  }
}

/** S3's key order: UTF-8 bytes, i.e. code points (JavaScript's `<` compares UTF-16 code units, which disagrees above U+FFFF). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Where a spill goes: the OS temp directory (TMPDIR) unless told, named for its owner. */
export interface SpillPlace {
  readonly owner: string;
  readonly tmpDir?: string;
}

const SPILL_DIR_PREFIX = 'cairn-restore-history-';

function spillDirPrefix(owner: string): string {
  return `${SPILL_DIR_PREFIX}${owner.replace(/[^A-Za-z0-9_.]/g, '_')}-`;
}

/**
 * Removes the spill directories `owner` left behind when it was killed mid-restore (one is as
 * large as a bucket's events). Call it before `owner` opens any spill; returns how many it removed.
 */
export async function removeLeftoverSpills(where: SpillPlace): Promise<number> {
  const tmpDir = where.tmpDir ?? os.tmpdir();
  const prefix = spillDirPrefix(where.owner);
  const leftovers = (await fsp.readdir(tmpDir, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory() && entry.name.startsWith(prefix));
  for (const entry of leftovers) await fsp.rm(path.join(tmpDir, entry.name), { recursive: true, force: true });
  return leftovers.length;
}
