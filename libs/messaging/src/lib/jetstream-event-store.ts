import { ConcurrencyConflictError, type AppendResult, type EventStore, type StoredEvent, type StreamRead } from '@cairn/eventing';
import { currentEnvelope, StreamKinds, subjectsFor, type EventEnvelope, type StreamKind } from '@cairn/protocol';
import { SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import { Empty, ErrorCode, headers as natsHeaders, JSONCodec, type JetStreamManager, type MsgHdrs, type NatsError } from 'nats';
import type { NatsConnectionManager } from './nats-connection';
import { nextMessageOnSubject } from './stream-reads';
import { endSpan, injectTraceHeaders, messagingTracer, tracedContext } from './trace-context';

const codec = JSONCodec<EventEnvelope>();

/** Reads of histories up to this many events use direct gets; longer ones an ordered consumer. */
const DIRECT_GET_MAX_EVENTS = 8;
const WRONG_LAST_SEQUENCE_ERR_CODE = 10071;
/** A stream's config (direct get allowed, replicas) is read again after this long. */
const STREAM_MODE_TTL_MS = 10_000;
/** As nats.js's JetStream API calls. */
const DIRECT_GET_TIMEOUT_MS = 5_000;
const SEQUENCE_HEADER = 'Nats-Sequence';

export const EVENT_TYPE_HEADER = 'Cairn-Event-Type';
export const SCHEMA_VERSION_HEADER = 'Cairn-Schema-Version';
/** Stored with each appended message as published; JetStream refused the message unless it held. */
const EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER = 'Nats-Expected-Last-Subject-Sequence';
/** Newer servers let a publish check another subject's sequence instead: such a header says nothing of this subject's. */
const EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT_HEADER = 'Nats-Expected-Last-Subject-Sequence-Subject';

/** A subject's last message as one message-get returns it, its event decoded only on demand. */
export interface LastEvent {
  /** The subject's last sequence; 0 when the subject has no message. */
  readonly sequence: number;
  /**
   * The subject's last sequence just before this message was stored (0: it was the subject's first),
   * when it was appended with an expected one; undefined when that is not known.
   */
  readonly previousSequence?: number;
  /** The message as an event, upcast; undefined when the subject has none. */
  readonly event?: () => StoredEvent;
}

/** A subject's last message as read: its stream sequence, headers and payload. */
interface LastMessage {
  readonly seq: number;
  readonly header: MsgHdrs | undefined;
  /** The payload, decoded (message-get: from base64) only when asked. */
  readonly data: () => Uint8Array;
}

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

/**
 * A stream message as readers see events: decoded, checked, and upcast to its type's current shape
 * (EVENT_SCHEMAS in @cairn/protocol). `where` names the message in errors (`META #42`).
 */
export function decodeEvent(data: Uint8Array, where: string): EventEnvelope {
  return currentEnvelope(codec.decode(data), where);
}

function decode(data: Uint8Array, seq: number): StoredEvent {
  return { envelope: decodeEvent(data, `stream message ${seq}`), sequence: seq };
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
    return (await this.lastMessage(subject))?.seq ?? 0;
  }

  /**
   * The subject's last sequence, with that message and the sequence it followed: the same one
   * look-up as `lastSequence`, so a reader one event behind catches up without another.
   */
  async lastEvent(subject: string): Promise<LastEvent> {
    const m = await this.lastMessage(subject);
    if (m === null) return { sequence: 0 };
    const checkedSubject = m.header?.get(EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT_HEADER);
    const previous = checkedSubject && checkedSubject !== subject ? undefined : m.header?.get(EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER);
    const previousSequence = previous ? Number(previous) : Number.NaN;
    return {
      sequence: m.seq,
      ...(Number.isSafeInteger(previousSequence) && previousSequence >= 0 && previousSequence < m.seq ? { previousSequence } : {}),
      event: () => decode(m.data(), m.seq),
    };
  }

  /**
   * The subject's last message, or null when it has none. A stream with one replica that allows it
   * is asked by direct get (`$JS.API.DIRECT.GET.<stream>.<subject>`): the stored message as it is,
   * where the message-get API answers JSON with the message in base64 (encoded by the server,
   * parsed and decoded here). Both are read-after-write for one replica: the only server holding
   * the stream answers from its store, and a publish is acknowledged only once stored there. With
   * more replicas a direct get may be answered by a follower that has not applied the latest
   * appends (ADR-31), so such streams are read through the leader's message-get, as they always
   * were. The config is read again every STREAM_MODE_TTL_MS, and at once when a direct get goes
   * unanswered (turned off: nats-server 2.9 then keeps a responder that never answers, so such a
   * look-up costs its timeout once before the message-get).
   */
  private async lastMessage(subject: string): Promise<LastMessage | null> {
    const stream = this.streamFor(subject);
    const direct = this.readsDirect(stream);
    if (direct === true || (direct !== false && (await direct))) {
      try {
        return await this.directLast(stream, subject);
      } catch (error) {
        // Direct gets turned off: nobody answers, or (nats-server 2.9) a responder that stays silent.
        const code = (error as NatsError)?.code;
        if (code !== ErrorCode.NoResponders && code !== ErrorCode.Timeout) throw error;
        if (await this.checkStreamMode(stream)) throw error;
      }
    }
    const jsm = await this.connection.jetstreamManager();
    try {
      const m = await jsm.streams.getMessage(stream, { last_by_subj: subject });
      return { seq: m.seq, header: m.header, data: () => m.data };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async directLast(stream: string, subject: string): Promise<LastMessage | null> {
    const nc = await this.connection.connection();
    const m = await nc.request(`$JS.API.DIRECT.GET.${stream}.${subject}`, Empty, { timeout: DIRECT_GET_TIMEOUT_MS });
    const h = m.headers;
    if (!h) throw new Error(`direct get of ${subject} on ${stream} answered without headers`);
    if (h.hasError) {
      if (h.code === 404) return null;
      throw new Error(`direct get of ${subject} on ${stream} failed: ${h.code} ${h.description}`);
    }
    const seq = Number(h.get(SEQUENCE_HEADER));
    if (!Number.isSafeInteger(seq) || seq <= 0) throw new Error(`direct get of ${subject} on ${stream} answered no sequence`);
    return { seq, header: h, data: () => m.data };
  }

  private readonly streamModes = new Map<string, { readonly direct: boolean; readonly checkedAt: number }>();

  /** Whether the stream's last messages are read by direct get: it allows it and has exactly one replica. */
  private readsDirect(stream: string): boolean | Promise<boolean> {
    const known = this.streamModes.get(stream);
    return known && Date.now() - known.checkedAt < STREAM_MODE_TTL_MS ? known.direct : this.checkStreamMode(stream);
  }

  private async checkStreamMode(stream: string): Promise<boolean> {
    let direct = false;
    try {
      const { config } = await (await this.connection.jetstreamManager()).streams.info(stream);
      direct = config.allow_direct === true && config.num_replicas === 1;
    } catch {
      // Unknown (the stream not made yet, NATS away): the message-get, until the next check.
    }
    this.streamModes.set(stream, { direct, checkedAt: Date.now() });
    return direct;
  }

  /** The subject's whole history, every event upcast to its current shape. */
  async read(subject: string): Promise<StreamRead> {
    const stream = this.streamFor(subject);
    const last = await this.lastSequence(subject);
    if (last === 0) return { events: [], lastSequence: 0 };
    const { events, complete, next } = await directGets(await this.connection.jetstreamManager(), stream, subject, 1, last, DIRECT_GET_MAX_EVENTS);
    if (complete) return { events, lastSequence: last };
    const js = await this.connection.jetstream();
    const consumer = await js.consumers.get(stream, { filterSubjects: subject, opt_start_seq: next });
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

  /**
   * The subject's events after sequence `after` up to `last` (its last sequence, as the caller
   * read it), upcast; undefined when there are more than `maxEvents` (read the history instead).
   */
  async readAfter(subject: string, after: number, last: number, maxEvents: number): Promise<StoredEvent[] | undefined> {
    const direct = await directGets(await this.connection.jetstreamManager(), this.streamFor(subject), subject, after + 1, last, maxEvents);
    return direct.complete ? direct.events : undefined;
  }

  async append(subject: string, events: readonly EventEnvelope[], expectedLastSequence: number): Promise<AppendResult> {
    if (events.length === 0) return { lastSequence: expectedLastSequence, duplicate: false };
    const js = await this.connection.jetstream();
    const traced = this.startAppendSpan(subject, events);
    let expected = expectedLastSequence;
    let duplicates = 0;
    for (const envelope of events) {
      const h = natsHeaders();
      h.set(EVENT_TYPE_HEADER, envelope.type);
      h.set(SCHEMA_VERSION_HEADER, String(envelope.schemaVersion));
      // Consumers of the event (projections) continue the trace it was appended under.
      if (traced) injectTraceHeaders(traced.context, h);
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
        const failure = actual !== undefined ? new ConcurrencyConflictError(subject, expected, actual >= 0 ? actual : undefined) : error;
        if (traced) endSpan(traced.span, failure);
        throw failure;
      }
    }
    if (traced) {
      traced.span.setAttribute('cairn.stream.last_sequence', expected);
      traced.span.end();
    }
    return { lastSequence: expected, duplicate: duplicates === events.length };
  }

  /** Appends without a concurrency guard: for facts no decision depends on (heartbeat-derived health, job progress). */
  async publish(subject: string, envelope: EventEnvelope): Promise<number> {
    const js = await this.connection.jetstream();
    const traced = this.startAppendSpan(subject, [envelope]);
    let headers: ReturnType<typeof natsHeaders> | undefined;
    if (traced) {
      headers = natsHeaders();
      injectTraceHeaders(traced.context, headers);
    }
    try {
      const ack = await js.publish(subject, codec.encode(envelope), { msgID: envelope.id, ...(headers ? { headers } : {}) });
      if (traced) {
        traced.span.setAttribute('cairn.stream.last_sequence', ack.seq);
        traced.span.end();
      }
      return ack.seq;
    } catch (error) {
      if (traced) endSpan(traced.span, error);
      throw error;
    }
  }

  /** A producer span around an append, under a traced request only (none when tracing is off). */
  private startAppendSpan(subject: string, events: readonly EventEnvelope[]): { readonly span: Span; readonly context: Context } | undefined {
    const traced = tracedContext();
    if (!traced) return undefined;
    const stream = this.streamFor(subject);
    const span = messagingTracer().startSpan(
      `append ${stream}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'send',
          'messaging.destination.name': subject,
          'messaging.batch.message_count': events.length,
          'cairn.event.types': [...new Set(events.map((e) => e.type))].join(','),
        },
      },
      traced,
    );
    return { span, context: trace.setSpan(traced, span) };
  }
}

/**
 * Up to `maxEvents` of the subject's events from sequence `from`, one message-get each: cheaper
 * than a consumer for a few. Complete when they reach `last`; else `next` is where to go on.
 */
async function directGets(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  from: number,
  last: number,
  maxEvents: number,
): Promise<{ readonly events: StoredEvent[]; readonly complete: boolean; readonly next: number }> {
  const events: StoredEvent[] = [];
  let next = from;
  while (events.length < maxEvents) {
    const m = await nextMessageOnSubject(jsm, stream, subject, next);
    if (m === null) return { events, complete: true, next };
    events.push(decode(m.data, m.seq));
    if (m.seq >= last) return { events, complete: true, next: m.seq + 1 };
    next = m.seq + 1;
  }
  return { events, complete: false, next };
}
