import { ConcurrencyConflictError, type AppendResult, type EventStore, type StoredEvent, type StreamRead } from '@cairn/eventing';
import { isEventEnvelope, StreamKinds, subjectsFor, type EventEnvelope, type StreamKind } from '@cairn/protocol';
import { headers as natsHeaders, JSONCodec, type SeqMsgRequest } from 'nats';
import type { NatsConnectionManager } from './nats-connection';

const codec = JSONCodec<EventEnvelope>();

/** Reads of histories up to this many events use direct gets; longer ones an ordered consumer. */
const DIRECT_GET_MAX_EVENTS = 8;
const WRONG_LAST_SEQUENCE_ERR_CODE = 10071;

export const EVENT_TYPE_HEADER = 'Cairn-Event-Type';
export const SCHEMA_VERSION_HEADER = 'Cairn-Schema-Version';

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number } };
  return e?.code === '404' || e?.api_error?.err_code === 10037;
}

function wrongLastSequence(error: unknown): number | undefined {
  const e = error as { api_error?: { err_code?: number; description?: string }; message?: string };
  const text = e?.api_error?.description ?? e?.message ?? '';
  if (e?.api_error?.err_code !== WRONG_LAST_SEQUENCE_ERR_CODE && !/wrong last sequence/i.test(text)) return undefined;
  const m = /wrong last sequence: (\d+)/i.exec(text);
  return m ? Number(m[1]) : -1;
}

function decode(data: Uint8Array, seq: number): StoredEvent {
  const envelope = codec.decode(data);
  if (!isEventEnvelope(envelope)) throw new Error(`stream message ${seq} is not an event envelope`);
  return { envelope, sequence: seq };
}

/**
 * The EventStore on JetStream. Each event is one message on its aggregate's subject, published
 * with `Nats-Msg-Id` = event id (a retried append is stored once) and
 * `Nats-Expected-Last-Subject-Sequence` (a concurrent writer gets ConcurrencyConflictError).
 * Several events of one decision are chained, each expecting the one before it.
 */
export class JetStreamEventStore implements EventStore {
  private readonly subjects;

  constructor(
    private readonly connection: NatsConnectionManager,
    private readonly namespace: string,
  ) {
    this.subjects = subjectsFor(namespace);
  }

  streamFor(subject: string): string {
    const relative = this.namespace ? subject.slice(this.namespace.length + 1) : subject;
    const kind = StreamKinds.find((k: StreamKind) => relative.startsWith(`${k.toLowerCase()}.`));
    if (!kind || (this.namespace && !subject.startsWith(`${this.namespace}.`))) {
      throw new Error(`subject ${subject} belongs to no stream of namespace "${this.namespace}"`);
    }
    return this.subjects.streamName(kind);
  }

  async lastSequence(subject: string): Promise<number> {
    const jsm = await this.connection.jetstreamManager();
    try {
      return (await jsm.streams.getMessage(this.streamFor(subject), { last_by_subj: subject })).seq;
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
  }

  async read(subject: string): Promise<StreamRead> {
    const stream = this.streamFor(subject);
    const last = await this.lastSequence(subject);
    if (last === 0) return { events: [], lastSequence: 0 };
    const jsm = await this.connection.jetstreamManager();
    const events: StoredEvent[] = [];
    let from = 1;
    while (events.length < DIRECT_GET_MAX_EVENTS) {
      // The server's message-get API takes next_by_subj (nats-server 2.9+); the client's type omits it.
      const m = await jsm.streams.getMessage(stream, { seq: from, next_by_subj: subject } as unknown as SeqMsgRequest);
      events.push(decode(m.data, m.seq));
      if (m.seq >= last) return { events, lastSequence: last };
      from = m.seq + 1;
    }
    const js = await this.connection.jetstream();
    const consumer = await js.consumers.get(stream, { filterSubjects: subject, opt_start_seq: from });
    const messages = await consumer.consume();
    try {
      for await (const m of messages) {
        events.push(decode(m.data, m.seq));
        if (m.seq >= last) break;
      }
    } finally {
      await messages.close().catch(() => undefined);
    }
    return { events, lastSequence: last };
  }

  async append(subject: string, events: readonly EventEnvelope[], expectedLastSequence: number): Promise<AppendResult> {
    if (events.length === 0) return { lastSequence: expectedLastSequence, duplicate: false };
    const js = await this.connection.jetstream();
    let expected = expectedLastSequence;
    let duplicates = 0;
    for (const envelope of events) {
      const h = natsHeaders();
      h.set(EVENT_TYPE_HEADER, envelope.type);
      h.set(SCHEMA_VERSION_HEADER, String(envelope.schemaVersion));
      try {
        const ack = await js.publish(subject, codec.encode(envelope), {
          msgID: envelope.id,
          expect: { lastSubjectSequence: expected },
          headers: h,
        });
        if (ack.duplicate) duplicates += 1;
        expected = ack.seq;
      } catch (error) {
        const actual = wrongLastSequence(error);
        if (actual !== undefined) throw new ConcurrencyConflictError(subject, expected, actual >= 0 ? actual : undefined);
        throw error;
      }
    }
    return { lastSequence: expected, duplicate: duplicates === events.length };
  }

  /** Appends without a concurrency guard: for facts no decision depends on (heartbeat-derived health, job progress). */
  async publish(subject: string, envelope: EventEnvelope): Promise<number> {
    const js = await this.connection.jetstream();
    const ack = await js.publish(subject, codec.encode(envelope), { msgID: envelope.id });
    return ack.seq;
  }
}
