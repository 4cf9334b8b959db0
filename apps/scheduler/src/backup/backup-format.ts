import { storedHashesOf, type ChunkRef } from '@cairn/protocol';

/**
 * What a backup target holds (docs/backups.md), as plain data and pure functions:
 *
 *   chunks/<ab>/<sha256>                       chunk bytes, content-addressed: shared by every backup
 *   events/META/<from>-<to>.ndjson             META's events in stream order, one JSON line each
 *   backups/<id>/progress.json                 a backup under way (its cut and the segments done)
 *   backups/<id>/configuration.json            the region's buckets and nodes at the cut
 *   backups/<id>/manifest.json                 written last: the backup is complete, with hashes
 *
 * A backup is a cut at one META sequence: every event up to it is in the segments its manifest
 * lists (the previous backup's and the new ones), and every chunk those events still reference at
 * the cut is under chunks/ before the manifest is written. Later backups copy only the events
 * after the previous cut and the chunks the target lacks, so they are incremental by nature.
 */
export const BACKUP_FORMAT = 1;
/** A segment holds at most this many events, or this many bytes. */
export const SEGMENT_EVENTS_MAX = 5_000;
export const SEGMENT_BYTES_MAX = 4 * 1024 * 1024;

export interface SegmentRef {
  readonly key: string;
  readonly fromSequence: number;
  readonly toSequence: number;
  readonly events: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface BackupChunkCounts {
  /** Chunks the new events name (stored hashes: shards for erasure-coded ones). */
  readonly named: number;
  /** Of those, the ones still referenced at the cut: these must be in the target. */
  readonly needed: number;
  readonly copied: number;
  readonly copiedBytes: number;
  /** Already in the target (deduplicated). */
  readonly alreadyThere: number;
  /** Named by an event but unreferenced at the cut and gone from the nodes: not needed to restore the cut. */
  readonly goneUnreferenced: number;
}

export interface BackupManifest {
  readonly format: number;
  readonly id: string;
  readonly region: string;
  readonly namespace: string;
  readonly previousId: string | null;
  readonly previousCutSequence: number;
  /** The previous backup's cutAt (null for a first backup; absent in manifests written before it was recorded). */
  readonly previousCutAt?: string | null;
  /** Every META event up to this sequence is in the segments. */
  readonly cutSequence: number;
  /** When the event at the cut occurred (the moment the backup restores to); startedAt for an empty log. */
  readonly cutAt: string;
  readonly startedAt: string;
  readonly completedAt: string;
  /** All segments from the start of the log to the cut, in order. */
  readonly segments: readonly SegmentRef[];
  readonly newEvents: number;
  readonly chunks: BackupChunkCounts;
  readonly configuration: { readonly key: string; readonly sha256: string };
  /** Bytes written to the target by this backup (segments, chunks, configuration). */
  readonly bytesWritten: number;
}

export interface BackupProgressFile {
  readonly format: number;
  readonly id: string;
  readonly previousId: string | null;
  readonly previousCutSequence: number;
  readonly cutSequence: number;
  readonly startedAt: string;
  /** Segments of this backup already written (resumed backups skip them). */
  readonly segments: readonly SegmentRef[];
}

export const BackupKeys = {
  chunk: (hash: string) => `chunks/${hash.slice(0, 2)}/${hash}`,
  chunksPrefix: 'chunks/',
  segment: (from: number, to: number) => `events/META/${String(from).padStart(12, '0')}-${String(to).padStart(12, '0')}.ndjson`,
  backupsPrefix: 'backups/',
  manifest: (id: string) => `backups/${id}/manifest.json`,
  progress: (id: string) => `backups/${id}/progress.json`,
  configuration: (id: string) => `backups/${id}/configuration.json`,
} as const;

/** The hash a chunk key names, or null for anything else under chunks/. */
export function hashOfChunkKey(key: string): string | null {
  const m = /(?:^|\/)chunks\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key);
  return m ? m[1] : null;
}

/** Sortable by time: b-20261202T164500Z-1a2b. */
export function newBackupId(nowMs: number, random: string): string {
  return `b-${new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${random}`;
}

/** One stored event as a segment line: its sequence, its subject without the namespace, the envelope as stored. */
export function segmentLine(sequence: number, relativeSubject: string, envelopeJson: string): string {
  return `{"seq":${sequence},"subject":${JSON.stringify(relativeSubject)},"event":${envelopeJson}}\n`;
}

export interface SegmentEvent {
  readonly seq: number;
  readonly subject: string;
  readonly event: { readonly id: string; readonly type: string; readonly occurredAt: string; readonly data: Record<string, unknown> };
}

export function parseSegment(text: string): SegmentEvent[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as SegmentEvent);
}

/**
 * Which chunks a run of events leaves referenced: every version put (or copied) keeps its chunks
 * until a later event of the run deletes it or a new null version replaces it. Chunks of other
 * events (upload parts) and of versions gone by the end of the run are "optional": copied when the
 * nodes still hold them (they serve point-in-time restores from the backup), not needed for the cut.
 */
export class ChunkTracker {
  private readonly versions = new Map<string, readonly ChunkRef[]>();
  private readonly named = new Map<string, number>();

  observe(subject: string, type: string, data: Record<string, unknown>): void {
    const chunks = Array.isArray(data['chunks']) ? (data['chunks'] as ChunkRef[]) : [];
    for (const chunk of chunks) for (const [hash, size] of storedSizes(chunk)) this.named.set(hash, size);
    const versionId = typeof data['versionId'] === 'string' ? data['versionId'] : null;
    if (versionId === null) return;
    const id = `${subject}|${versionId}`;
    if (type === 'ObjectVersionPut' || type === 'ObjectVersionCopied') this.versions.set(id, chunks);
    else if (type === 'DeleteMarkerPut' || type === 'ObjectVersionDeleted') this.versions.delete(id);
  }

  /** hash → size of the chunks every version alive at the end of the run needs. */
  needed(): Map<string, number> {
    const out = new Map<string, number>();
    for (const chunks of this.versions.values()) for (const chunk of chunks) for (const [hash, size] of storedSizes(chunk)) out.set(hash, size);
    return out;
  }

  /** hash → size of every chunk the run named. */
  all(): ReadonlyMap<string, number> {
    return this.named;
  }
}

function storedSizes(chunk: ChunkRef): [string, number][] {
  const erasure = (chunk as { readonly erasure?: { readonly shardSizeBytes: number } }).erasure;
  return storedHashesOf(chunk).map((hash) => [hash, erasure ? erasure.shardSizeBytes : chunk.sizeBytes]);
}

/** Complete backups to delete so that the newest `keep` remain (by cut, then id). */
export function backupsToPrune(manifests: readonly Pick<BackupManifest, 'id' | 'cutSequence'>[], keep: number): string[] {
  const sorted = [...manifests].sort((a, b) => b.cutSequence - a.cutSequence || (a.id < b.id ? 1 : -1));
  return sorted.slice(Math.max(1, keep)).map((m) => m.id);
}

/** A backup's span of the log as retention sees it: the events after its previous cut, up to its own. */
export interface BackupSpan {
  readonly previousCutSequence: number;
  readonly cutSequence: number;
}

/**
 * The mark of the target's chunk sweep (docs/backups.md): the chunks the backups that survive
 * retention need. A backup restores every moment from its previous cut to its own cut, so it needs
 * every chunk a version alive in that span referenced: the chunks still referenced at its previous
 * cut, and every chunk the events after it (up to its cut) name. The log is fed in sequence order
 * (the newest backup's segments: they reach back to the start), one pass. Spans of unfinished
 * backups belong in `spans` too: their chunks may already be in the target.
 */
export class ChunkMark {
  private readonly keep = new Set<string>();
  private readonly tracker = new ChunkTracker();
  private readonly boundaries: number[];
  private next = 0;

  constructor(private readonly spans: readonly BackupSpan[]) {
    this.boundaries = [...new Set(spans.map((s) => s.previousCutSequence))].sort((a, b) => a - b);
  }

  observe(e: Pick<SegmentEvent, 'seq' | 'subject' | 'event'>): void {
    // The state at a previous cut is the fold of the events up to it: taken before the first event past it.
    this.markReferencedAt(e.seq - 1);
    const data = e.event.data ?? {};
    if (this.spans.some((s) => e.seq > s.previousCutSequence && e.seq <= s.cutSequence)) {
      const chunks = Array.isArray(data['chunks']) ? (data['chunks'] as ChunkRef[]) : [];
      for (const chunk of chunks) for (const [hash] of storedSizes(chunk)) this.keep.add(hash);
    }
    this.tracker.observe(e.subject, e.event.type, data);
  }

  /** Every chunk to keep, once the whole log has been observed. */
  marked(): Set<string> {
    this.markReferencedAt(Number.MAX_SAFE_INTEGER);
    return this.keep;
  }

  private markReferencedAt(sequence: number): void {
    while (this.next < this.boundaries.length && this.boundaries[this.next] <= sequence) {
      for (const hash of this.tracker.needed().keys()) this.keep.add(hash);
      this.next++;
    }
  }
}

export function chunksToKeep(events: Iterable<Pick<SegmentEvent, 'seq' | 'subject' | 'event'>>, spans: readonly BackupSpan[]): Set<string> {
  const mark = new ChunkMark(spans);
  for (const e of events) mark.observe(e);
  return mark.marked();
}
