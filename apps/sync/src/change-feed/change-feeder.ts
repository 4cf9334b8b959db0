import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, headers as natsHeaders, JSONCodec, type ConsumerMessages, type JsMsg, type PubAck } from 'nats';
import { backoffFor, NatsConnectionManager, publishDeadLetter } from '@cairn/messaging';
import { changeFeedSubjects, changeRecordOf, currentEnvelope, isEventEnvelope, subjectsFor, type ChangeRecord, type EventEnvelope } from '@cairn/protocol';
import { removeLegacyChangeFeedConsumer } from './change-feed.consumer';
import { SERVICE_IDENTITY, WorkerRegistry, type NamedWorker, type ServiceIdentity, type WorkerState, type WorkerStatus } from '@cairn/service-kit';

/** On every change record: the META sequence of the event it comes from. */
export const CHANGE_SOURCE_SEQUENCE_HEADER = 'Cairn-Source-Sequence';
/** On every change record: its type, so a consumer can filter on headers alone. */
export const CHANGE_TYPE_HEADER = 'Cairn-Change-Type';
/** The name the feed's dead letters are filed under (`dlq.meta.sync-change-feed`). */
export const CHANGE_FEED_NAME = 'sync-change-feed';
/**
 * Attempts at one event before it is parked on the dead-letter stream and passed. A record
 * skipped is a record a user never sees, so the feed keeps retrying (15 s apart after the first
 * few) for about two days: a CHANGES stream that refuses writes, or a META event newer than this
 * sync knows, holds the feed instead of thinning it.
 */
export const CHANGE_FEED_MAX_ATTEMPTS = 10_000;
export const CHANGE_FEED_RETRY_BACKOFF_MS = [100, 500, 2_000, 5_000, 15_000] as const;
/** Records published ahead of their acknowledgements (each expecting the one before it). */
const PUBLISHES_IN_FLIGHT = 256;
/** META messages fetched per pull. */
const META_PULL = 256;
/**
 * How long an instance that found another one feeding waits before it looks again (jittered up to
 * twice this). It takes over when CHANGES did not move in that time.
 */
const STANDBY_MS = 2_000;
/** How long shutdown waits for the publishes in flight. */
const SHUTDOWN_WAIT_MS = 5_000;
/** Bucket lives (incarnation → createdAt) remembered; the map is emptied when it fills. */
const BUCKET_LIVES_CACHED = 1_024;
/** nats-server's error code for a publish whose `expect.lastSequence` was not the stream's last. */
const WRONG_LAST_SEQUENCE = 10071;

const envelopeCodec = JSONCodec<unknown>();
const recordCodec = JSONCodec<ChangeRecord>();

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number } };
  return e?.code === '404' || e?.api_error?.err_code === 10037;
}

function decodedOrUndefined(data: Uint8Array): unknown {
  try {
    return envelopeCodec.decode(data);
  } catch {
    return undefined;
  }
}

/** A JetStream API error says what went wrong in its description (its message is only the status code). */
function reasonOf(error: unknown): string {
  const description = (error as { api_error?: { description?: unknown } })?.api_error?.description;
  if (typeof description === 'string') return description;
  return error instanceof Error ? error.message : String(error);
}

function isWrongLastSequence(error: unknown): boolean {
  const e = error as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(String(e?.message ?? ''));
}

/** Where CHANGES ends: its last stream sequence and the META sequence that record came from. */
interface HighWaterMark {
  readonly lastSequence: number;
  readonly sourceSequence: number;
}

/** Why feeding stopped at one META message; everything before it is on CHANGES. */
class FeedStopped extends Error {
  constructor(
    readonly message_: JsMsg,
    readonly cause_: unknown,
  ) {
    super(`META #${message_.seq}: ${reasonOf(cause_)}`);
  }
}

/**
 * Turns META's object-key events into change records on CHANGES (docs/change-feed.md).
 *
 * CHANGES itself is the feed's position: every record carries the META sequence it comes from, so
 * the feeder reads META (an ordered consumer: no acks, no state on the server) from just after
 * the last record's source and publishes the records in order, many in flight at once. Each
 * publish expects the stream's last sequence to be the one before it, so the record at CHANGES
 * position L+j can only be the j-th record after L's source: a publish that fails makes every
 * later one fail too, and a second sync instance feeding at the same time can only write the
 * same records at the same positions (the loser's publishes are refused, and it stands by).
 * Nothing is skipped, nothing repeats, order holds, and a crash (even kill -9) loses nothing: the
 * next start reads where CHANGES ends. `Nats-Msg-Id` = the event id stays as a second guard.
 */
@Injectable()
export class ChangeFeeder implements NamedWorker, OnApplicationBootstrap, OnApplicationShutdown {
  readonly name = CHANGE_FEED_NAME;
  private state: WorkerState = 'idle';
  private readonly counters = { events: 0, published: 0, skipped: 0, failures: 0 };
  private lastError: { readonly message: string; readonly at: string } | undefined;
  /** The highest META sequence known to be on CHANGES; undefined until read from the stream. */
  private lastFedSequence: number | undefined;
  private readonly bucketLives = new Map<number, string | null>();
  /** META sequences parked on the dead-letter stream: passed over until CHANGES moves beyond them. */
  private readonly parked = new Set<number>();
  private readonly changes;
  private readonly metaStream: string;
  private readonly metaObjects: string;
  private readonly namespace: string;
  private stopping = false;
  private running: Promise<void> | undefined;
  private messages: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) identity: ServiceIdentity,
  ) {
    const meta = subjectsFor(identity.namespace);
    this.namespace = identity.namespace;
    this.changes = changeFeedSubjects(identity.namespace);
    this.metaStream = meta.streamName('META');
    this.metaObjects = meta.prefix('meta.object.>');
  }

  onApplicationBootstrap(): void {
    this.workers.register(this);
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    // Publishes in flight settle or time out; a feeder still waiting for NATS is not waited for.
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref())]);
    this.state = 'stopped';
    this.workers.unregister(this.name);
  }

  status(): WorkerStatus {
    const { events, published, skipped, failures } = this.counters;
    return {
      name: this.name,
      state: this.state,
      runs: events,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: {
        doneItems: published,
        detail: `META #${this.lastFedSequence ?? '?'} fed; ${skipped} already on CHANGES, ${failures} failed attempts`,
      },
    };
  }

  private async run(): Promise<void> {
    /** Attempts at the META event the feed stopped at, to park it after CHANGE_FEED_MAX_ATTEMPTS. */
    let stuck: { sequence: number; attempts: number } | undefined;
    let failuresInARow = 0;
    let standingBy: number | undefined;
    let legacyRemoved = false;
    while (!this.stopping) {
      const fedBefore = this.lastFedSequence;
      try {
        if (!legacyRemoved) {
          await removeLegacyChangeFeedConsumer(await this.nats.jetstreamManager(), this.namespace);
          legacyRemoved = true;
        }
        const mark = await this.readHighWaterMark();
        if (standingBy !== undefined && mark.lastSequence !== standingBy) {
          // Another instance is feeding: CHANGES moved while this one waited.
          standingBy = mark.lastSequence;
          await this.sleep(STANDBY_MS * (1 + Math.random()));
          continue;
        }
        standingBy = undefined;
        this.lastFedSequence = mark.sourceSequence;
        for (const sequence of this.parked) if (sequence <= mark.sourceSequence) this.parked.delete(sequence);
        await this.feedFrom(mark);
        // The META subscription ended without being told to (a lost connection): read the mark again.
        if (!this.stopping) await this.sleep(CHANGE_FEED_RETRY_BACKOFF_MS[1]);
      } catch (error) {
        if (this.stopping) break;
        this.noteFailure(error);
        failuresInARow = this.lastFedSequence !== fedBefore ? 1 : failuresInARow + 1;
        if (error instanceof FeedStopped && isWrongLastSequence(error.cause_)) {
          const mark = await this.readHighWaterMark().catch(() => undefined);
          if (mark && mark.sourceSequence >= error.message_.seq) {
            // Another instance wrote this very record: stand by while it goes on.
            standingBy = mark.lastSequence;
            await this.sleep(STANDBY_MS * (1 + Math.random()));
            continue;
          }
        }
        if (error instanceof FeedStopped) {
          const at = error.message_;
          stuck = stuck?.sequence === at.seq ? { sequence: at.seq, attempts: stuck.attempts + 1 } : { sequence: at.seq, attempts: 1 };
          if (stuck.attempts >= CHANGE_FEED_MAX_ATTEMPTS) {
            await this.park(at, error, stuck.attempts).catch((parkError: unknown) => this.noteFailure(parkError));
            stuck = undefined;
            continue;
          }
        }
        await this.sleep(backoffFor(failuresInARow, CHANGE_FEED_RETRY_BACKOFF_MS));
      }
    }
  }

  /**
   * Publishes the record of every META object event after the mark, in order, until told to stop
   * (returns) or until one cannot be fed (throws FeedStopped at it, once the publishes before it
   * have settled).
   */
  private async feedFrom(mark: HighWaterMark): Promise<void> {
    const js = await this.nats.jetstream();
    const consumer = await js.consumers.get(this.metaStream, {
      filterSubjects: this.metaObjects,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: mark.sourceSequence + 1,
    });
    if (this.stopping) return;
    const messages = await consumer.consume({ max_messages: META_PULL });
    this.messages = messages;
    let expectedLast = mark.lastSequence;
    let stopped: FeedStopped | undefined;
    const inFlight: Promise<void>[] = [];
    const stopAt = (msg: JsMsg, cause: unknown): void => {
      if (!stopped || msg.seq < stopped.message_.seq) stopped = new FeedStopped(msg, cause);
      void messages.close().catch(() => undefined);
    };
    try {
      for await (const msg of messages) {
        if (this.stopping || stopped) break;
        this.counters.events += 1;
        let record: ChangeRecord | undefined;
        let envelope: EventEnvelope | undefined;
        try {
          [envelope, record] = await this.recordOf(msg);
        } catch (error) {
          // A newer schema than this code knows: the feed waits here for an upgraded sync.
          stopAt(msg, error);
          break;
        }
        if (!record || !envelope) continue;
        const h = natsHeaders();
        h.set(CHANGE_SOURCE_SEQUENCE_HEADER, String(msg.seq));
        h.set(CHANGE_TYPE_HEADER, record.type);
        const publish = js.publish(this.changes.bucket(record.bucket), recordCodec.encode(record), {
          msgID: envelope.id,
          headers: h,
          expect: { lastSequence: expectedLast },
        });
        expectedLast += 1;
        inFlight.push(publish.then((ack) => this.published(ack, msg.seq), (error: unknown) => stopAt(msg, error)));
        if (inFlight.length >= PUBLISHES_IN_FLIGHT) await inFlight.shift();
      }
    } finally {
      await Promise.all(inFlight);
      if (this.messages === messages) this.messages = undefined;
      await messages.close().catch(() => undefined);
    }
    if (stopped) throw stopped;
  }

  private published(ack: PubAck, metaSequence: number): void {
    if (ack.duplicate) this.counters.skipped += 1;
    else this.counters.published += 1;
    this.lastFedSequence = Math.max(this.lastFedSequence ?? 0, metaSequence);
    this.state = 'running';
  }

  /** The event and its record, or nothing when the message makes none; throws for a newer schema. */
  private async recordOf(msg: JsMsg): Promise<[EventEnvelope | undefined, ChangeRecord | undefined]> {
    if (this.parked.has(msg.seq)) return [undefined, undefined];
    const payload = decodedOrUndefined(msg.data);
    // Not an event at all: nothing a user could see changed (metadata parks such messages itself).
    if (!isEventEnvelope(payload)) return [undefined, undefined];
    const envelope = currentEnvelope(payload, `${this.metaStream} #${msg.seq}`);
    const record = changeRecordOf(envelope, { bucketCreatedAt: await this.bucketCreatedAt(envelope) });
    return [envelope, record ?? undefined];
  }

  private noteFailure(error: unknown): void {
    this.counters.failures += 1;
    this.lastError = { message: reasonOf(error), at: new Date().toISOString() };
    this.state = 'failed';
  }

  /** Files an event that could not be fed for CHANGE_FEED_MAX_ATTEMPTS on the dead-letter stream, and passes it. */
  private async park(msg: JsMsg, error: unknown, attempts: number): Promise<void> {
    const reason = error instanceof FeedStopped ? error.message : String(error);
    await publishDeadLetter(await this.nats.jetstream(), this.namespace, 'META', CHANGE_FEED_NAME, msg, reason, attempts);
    this.parked.add(msg.seq);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** The last sequence of CHANGES and the source sequence of its record (0 and 0 when it is empty). */
  private async readHighWaterMark(): Promise<HighWaterMark> {
    const jsm = await this.nats.jetstreamManager();
    const info = await jsm.streams.info(this.changes.stream);
    const lastSequence = info.state.last_seq;
    if (lastSequence === 0 || info.state.messages === 0) return { lastSequence, sourceSequence: 0 };
    try {
      const last = await jsm.streams.getMessage(this.changes.stream, { seq: lastSequence });
      const value = Number(last.header?.get(CHANGE_SOURCE_SEQUENCE_HEADER) ?? '0');
      return { lastSequence, sourceSequence: Number.isSafeInteger(value) && value > 0 ? value : 0 };
    } catch (error) {
      if (isNotFound(error)) return { lastSequence, sourceSequence: 0 };
      throw error;
    }
  }

  /**
   * The createdAt of the bucket life an event belongs to: its `incarnation` is the META sequence of
   * that life's BucketCreated. Undefined when the event names none, or that message is not one.
   */
  private async bucketCreatedAt(envelope: EventEnvelope): Promise<string | undefined> {
    const data = envelope.data as { readonly bucket?: unknown; readonly incarnation?: unknown };
    const incarnation = data.incarnation;
    if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation <= 0) return undefined;
    if (!this.bucketLives.has(incarnation)) {
      if (this.bucketLives.size >= BUCKET_LIVES_CACHED) this.bucketLives.clear();
      this.bucketLives.set(incarnation, await this.readBucketCreatedAt(incarnation, data.bucket));
    }
    return this.bucketLives.get(incarnation) ?? undefined;
  }

  private async readBucketCreatedAt(sequence: number, bucket: unknown): Promise<string | null> {
    const jsm = await this.nats.jetstreamManager();
    try {
      const message = await jsm.streams.getMessage(this.metaStream, { seq: sequence });
      const created = envelopeCodec.decode(message.data) as { type?: unknown; data?: { bucket?: unknown; createdAt?: unknown } };
      const data = created.type === 'BucketCreated' ? created.data : undefined;
      return data !== undefined && data.bucket === bucket && typeof data.createdAt === 'string' ? data.createdAt : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }
}
