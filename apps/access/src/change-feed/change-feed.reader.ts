import { DeliverPolicy, JSONCodec } from 'nats';
import type { NatsConnectionManager } from '@cairn/messaging';
import { changeFeedSubjects, formatChangeCursor, isChangeRecord, type ChangeFeedRecord } from '@cairn/protocol';

/** Messages a read asks the server for at once. */
const READ_BATCH = 256;
/** A read of records known to be there gives up after this long (it never should take it). */
const READ_OF_PRESENT_RECORDS_TIMEOUT_MS = 10_000;

const codec = JSONCodec<unknown>();

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number } };
  return e?.code === '404' || e?.api_error?.err_code === 10037;
}

export interface ChangeFeedRead {
  readonly records: readonly ChangeFeedRecord[];
  /** The stream sequence to continue after: the last message read, or `after` when none was. */
  readonly lastSequence: number;
}

/**
 * Reads a bucket's change records from the CHANGES stream with short-lived ordered consumers (no
 * state on the server once a read is over; nothing to clean up when a client goes away).
 */
export class ChangeFeedReader {
  private readonly subjects;

  constructor(
    private readonly nats: NatsConnectionManager,
    namespace: string,
  ) {
    this.subjects = changeFeedSubjects(namespace);
  }

  /** The sequence of the last record on the stream, of any bucket (0 when empty). */
  async streamEnd(): Promise<number> {
    const jsm = await this.nats.jetstreamManager();
    return (await jsm.streams.info(this.subjects.stream)).state.last_seq;
  }

  /**
   * Up to `limit` records of the bucket after stream sequence `after`. When there are none yet it
   * waits up to `waitMs` for one (0: answers at once), and returns early if `signal` aborts.
   */
  async read(bucket: string, after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<ChangeFeedRead> {
    const subject = this.subjects.bucket(bucket);
    let known = await this.lastOnSubject(subject);
    if (known <= after && (waitMs <= 0 || signal?.aborted)) return { records: [], lastSequence: after };
    const js = await this.nats.jetstream();
    const consumer = await js.consumers.get(this.subjects.stream, { filterSubjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 });
    const messages = await consumer.consume({ max_messages: Math.min(limit, READ_BATCH) });
    const stop = () => void messages.close().catch(() => undefined);
    const timer = setTimeout(stop, known > after ? READ_OF_PRESENT_RECORDS_TIMEOUT_MS : waitMs);
    signal?.addEventListener('abort', stop);
    const records: ChangeFeedRecord[] = [];
    let lastSequence = after;
    let scanned = 0;
    try {
      for await (const m of messages) {
        lastSequence = m.seq;
        scanned += 1;
        const value = codec.decode(m.data);
        // A record of a newer schema than this gateway reads is passed over, not misread.
        if (isChangeRecord(value)) records.push({ ...value, cursor: formatChangeCursor(m.seq) });
        if (scanned >= limit) break;
        if (m.seq >= known) {
          // Whatever arrived while reading joins this answer; then it is complete.
          known = await this.lastOnSubject(subject);
          if (m.seq >= known) break;
        }
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      await messages.close().catch(() => undefined);
    }
    return { records, lastSequence };
  }

  private async lastOnSubject(subject: string): Promise<number> {
    const jsm = await this.nats.jetstreamManager();
    try {
      return (await jsm.streams.getMessage(this.subjects.stream, { last_by_subj: subject })).seq;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
  }
}
