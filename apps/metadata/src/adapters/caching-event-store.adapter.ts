import type { AppendResult, EventStore, StoredEvent, StreamRead } from '@cairn/eventing';
import type { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { isEventEnvelope, type EventEnvelope } from '@cairn/protocol';
import { JSONCodec, type SeqMsgRequest } from 'nats';

/** Subjects whose histories are kept; the least recently used one goes first. */
export const CACHED_SUBJECTS_MAX = 20_000;
/** A history longer than this is not cached (a very hot key would pin memory). */
export const CACHED_EVENTS_PER_SUBJECT_MAX = 5_000;
/** A delta longer than this is read whole through the underlying store instead of message by message. */
const DELTA_READ_MAX = 64;

const codec = JSONCodec<EventEnvelope>();

/**
 * The JetStream event store with each subject's history remembered: a read first asks the subject's
 * last sequence (one round trip); when it is the one remembered, the history is not read again, and
 * when other writers appended, only their events are fetched. The cache is never trusted for a
 * decision on its own — the append still carries the expected subject sequence — so a stale entry
 * costs a conflict and a re-read, never a lost update. Without it, every command on a hot key reads
 * the key's whole history (quadratic in its versions).
 */
export class CachingEventStore implements EventStore {
  private readonly histories = new Map<string, StreamRead>();

  constructor(
    private readonly store: JetStreamEventStore,
    private readonly nats: NatsConnectionManager,
  ) {}

  lastSequence(subject: string): Promise<number> {
    return this.store.lastSequence(subject);
  }

  async read(subject: string): Promise<StreamRead> {
    const last = await this.store.lastSequence(subject);
    const cached = this.histories.get(subject);
    if (cached && cached.lastSequence === last) return this.remember(subject, cached);
    if (cached && cached.lastSequence < last && cached.events.length + DELTA_READ_MAX <= CACHED_EVENTS_PER_SUBJECT_MAX) {
      const delta = await this.readAfter(subject, cached.lastSequence, last);
      if (delta) return this.remember(subject, { events: [...cached.events, ...delta], lastSequence: last });
    }
    const full = await this.store.read(subject);
    return this.remember(subject, full);
  }

  async append(subject: string, events: readonly EventEnvelope[], expectedLastSequence: number): Promise<AppendResult> {
    const result = await this.store.append(subject, events, expectedLastSequence);
    const cached = this.histories.get(subject);
    if (cached && cached.lastSequence === expectedLastSequence && events.length === 1 && !result.duplicate) {
      this.remember(subject, { events: [...cached.events, { envelope: events[0], sequence: result.lastSequence }], lastSequence: result.lastSequence });
    } else {
      this.histories.delete(subject);
    }
    return result;
  }

  /** The subject's events after `after` up to `last`, or undefined when there are too many to fetch one by one. */
  private async readAfter(subject: string, after: number, last: number): Promise<StoredEvent[] | undefined> {
    const jsm = await this.nats.jetstreamManager();
    const stream = this.store.streamFor(subject);
    const events: StoredEvent[] = [];
    let from = after + 1;
    while (events.length < DELTA_READ_MAX) {
      // next_by_subj: the server's message-get API (nats-server 2.9+); the client's type omits it.
      const m = await jsm.streams.getMessage(stream, { seq: from, next_by_subj: subject } as unknown as SeqMsgRequest);
      const envelope = codec.decode(m.data);
      if (!isEventEnvelope(envelope)) throw new Error(`stream message ${m.seq} is not an event envelope`);
      events.push({ envelope, sequence: m.seq });
      if (m.seq >= last) return events;
      from = m.seq + 1;
    }
    return undefined;
  }

  private remember(subject: string, read: StreamRead): StreamRead {
    this.histories.delete(subject);
    if (read.events.length > CACHED_EVENTS_PER_SUBJECT_MAX) return read;
    this.histories.set(subject, read);
    if (this.histories.size > CACHED_SUBJECTS_MAX) {
      const oldest = this.histories.keys().next().value;
      if (oldest !== undefined) this.histories.delete(oldest);
    }
    return read;
  }
}
