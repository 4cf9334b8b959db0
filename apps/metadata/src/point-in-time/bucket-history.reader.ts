import { decodeEvent, NatsConnectionManager, nextMessageOnSubject } from '@cairn/messaging';
import { bucketToken, MetadataErrorCodes } from '@cairn/protocol';
import { DeliverPolicy } from 'nats';
import { advanceTimeline, emptyTimeline, type KeyTimeline } from '../domain/point-in-time/point-in-time';
import { MetadataError } from '../domain/shared/metadata.errors';
import type { MetadataCommandContext } from '../shared/metadata-command-context';

/** A bucket's keys the history reader folds at most (memory: two folded states per key). */
export const HISTORY_KEYS_MAX = 1_000_000;
/** Reads kept for the pages of one listing or restore plan. */
const SNAPSHOTS_KEPT_MAX = 4;
const SNAPSHOT_TTL_MS = 5 * 60_000;

/** Every key a bucket's subjects have ever named, each folded as of a moment and now. */
export interface BucketHistorySnapshot {
  readonly bucket: string;
  readonly atMs: number;
  /** META's last sequence when the read began; events after it are left out. */
  readonly sequence: number;
  /** Sorted by key (UTF-16 code unit order, as the listings sort). */
  readonly keys: readonly KeyTimeline[];
  readonly readAtMs: number;
}

/**
 * Reads all of a bucket's object-key events (`meta.object.<bucket>.>`) in one pass with an ordered
 * consumer and folds each key as of a moment and now. A bucket with N keys and E events costs E
 * messages and two folded states per key. The last few reads are kept for a few minutes so the
 * pages of one listing or restore plan come from the same snapshot.
 */
export class BucketHistoryReader {
  private readonly snapshots = new Map<string, BucketHistorySnapshot>();

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly ctx: MetadataCommandContext,
  ) {}

  /**
   * `continuing`: a later page of a listing or plan, which reads from the snapshot its first page
   * made while it is kept; a first page always reads afresh.
   */
  async read(bucket: string, atMs: number, continuing: boolean): Promise<BucketHistorySnapshot> {
    const id = `${bucket}@${atMs}`;
    const kept = this.snapshots.get(id);
    if (continuing && kept && Date.now() - kept.readAtMs < SNAPSHOT_TTL_MS) return kept;
    const read = await this.readFresh(bucket, atMs);
    this.snapshots.delete(id);
    this.snapshots.set(id, read);
    while (this.snapshots.size > SNAPSHOTS_KEPT_MAX) this.snapshots.delete(this.snapshots.keys().next().value as string);
    return read;
  }

  private async readFresh(bucket: string, atMs: number): Promise<BucketHistorySnapshot> {
    const stream = this.ctx.subjects.streamName('META');
    const filter = this.ctx.subjects.prefix(`meta.object.${bucketToken(bucket)}.>`);
    const jsm = await this.nats.jetstreamManager();
    const sequence = (await jsm.streams.info(stream)).state.last_seq;
    const timelines = new Map<string, KeyTimeline>();
    const first = await nextMessageOnSubject(jsm, stream, filter, 1);
    if (first !== null && first.seq <= sequence) {
      const js = await this.nats.jetstream();
      const consumer = await js.consumers.get(stream, { filterSubjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: first.seq });
      const messages = await consumer.consume();
      try {
        for await (const m of messages) {
          if (m.seq <= sequence) {
            const keyId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
            const envelope = decodeEvent(m.data, `META #${m.seq}`);
            let timeline = timelines.get(keyId);
            if (!timeline) {
              if (timelines.size >= HISTORY_KEYS_MAX) {
                throw new MetadataError(MetadataErrorCodes.InvalidRequest, `bucket ${bucket} has more than ${HISTORY_KEYS_MAX} keys in its history: restore it by prefix`);
              }
              timeline = emptyTimeline(String((envelope.data as { key?: unknown }).key ?? ''));
            }
            timelines.set(keyId, advanceTimeline(timeline, { envelope, sequence: m.seq }, atMs));
          }
          if (m.seq >= sequence || m.info.pending === 0) break;
        }
      } finally {
        await messages.close().catch(() => undefined);
      }
    }
    const keys = [...timelines.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { bucket, atMs, sequence, keys, readAtMs: Date.now() };
  }
}
