import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { headers as natsHeaders, JSONCodec } from 'nats';
import { NatsConnectionManager } from '@cairn/messaging';
import { changeFeedSubjects, changeRecordOf, currentEnvelope, isEventEnvelope, subjectsFor, type ChangeRecord, type EventEnvelope } from '@cairn/protocol';
import { SERVICE_IDENTITY, WorkerRegistry, type NamedWorker, type ServiceIdentity, type WorkerState, type WorkerStatus } from '@cairn/service-kit';

/** On every change record: the META sequence of the event it comes from. */
export const CHANGE_SOURCE_SEQUENCE_HEADER = 'Cairn-Source-Sequence';
/** On every change record: its type, so a consumer can filter on headers alone. */
export const CHANGE_TYPE_HEADER = 'Cairn-Change-Type';
/** Bucket lives (incarnation → createdAt) remembered; the map is emptied when it fills. */
const BUCKET_LIVES_CACHED = 1_024;

const envelopeCodec = JSONCodec<unknown>();
const recordCodec = JSONCodec<ChangeRecord>();

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number } };
  return e?.code === '404' || e?.api_error?.err_code === 10037;
}

/**
 * Turns META's object-key events into change records on CHANGES (docs/change-feed.md). It is
 * called by the durable META consumer (ChangeFeedConsumer) one event at a time, in stream order;
 * the event is acked only after its record's publish was acknowledged by JetStream, so a crash
 * loses nothing: the event comes again.
 *
 * No duplicates either way it comes again: each record is published with `Nats-Msg-Id` = the
 * event id (JetStream drops a repeat within its duplicate window), and each carries the META
 * sequence it comes from, so an event at or below the last sequence already on CHANGES (read at
 * start) is acked without publishing, however long the feeder was down.
 */
@Injectable()
export class ChangeFeeder implements NamedWorker, OnApplicationBootstrap, OnApplicationShutdown {
  readonly name = 'sync-change-feed';
  private state: WorkerState = 'idle';
  private readonly counters = { events: 0, published: 0, skipped: 0, failures: 0 };
  private lastError: { readonly message: string; readonly at: string } | undefined;
  /** The highest META sequence known to be on CHANGES already; undefined until read from the stream. */
  private lastFedSequence: number | undefined;
  private readonly bucketLives = new Map<number, string | null>();
  private readonly changes;
  private readonly metaStream: string;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) identity: ServiceIdentity,
  ) {
    this.changes = changeFeedSubjects(identity.namespace);
    this.metaStream = subjectsFor(identity.namespace).streamName('META');
  }

  onApplicationBootstrap(): void {
    this.workers.register(this);
  }

  onApplicationShutdown(): void {
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

  /** Feeds one META message (its decoded JSON and stream sequence); throws to have it redelivered. */
  async feed(payload: unknown, metaSequence: number): Promise<void> {
    try {
      await this.feedOnce(payload, metaSequence);
      this.state = 'running';
    } catch (error) {
      this.counters.failures += 1;
      this.lastError = { message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
      this.state = 'failed';
      throw error;
    }
  }

  private async feedOnce(payload: unknown, metaSequence: number): Promise<void> {
    this.counters.events += 1;
    // Not an event at all: nothing a user could see changed (metadata parks such messages itself).
    if (!isEventEnvelope(payload)) return;
    const fed = this.lastFedSequence ?? (this.lastFedSequence = await this.readLastFedSequence());
    if (metaSequence <= fed) {
      this.counters.skipped += 1;
      return;
    }
    // A newer schema than this code knows throws: the event waits for an upgraded sync, unskipped.
    const envelope = currentEnvelope(payload, `${this.metaStream} #${metaSequence}`);
    const record = changeRecordOf(envelope, { bucketCreatedAt: await this.bucketCreatedAt(envelope) });
    if (!record) return;
    const h = natsHeaders();
    h.set(CHANGE_SOURCE_SEQUENCE_HEADER, String(metaSequence));
    h.set(CHANGE_TYPE_HEADER, record.type);
    const js = await this.nats.jetstream();
    await js.publish(this.changes.bucket(record.bucket), recordCodec.encode(record), { msgID: envelope.id, headers: h });
    this.counters.published += 1;
    this.lastFedSequence = Math.max(this.lastFedSequence ?? 0, metaSequence);
  }

  /** The source sequence of the last record on CHANGES (0 when it is empty). */
  private async readLastFedSequence(): Promise<number> {
    const jsm = await this.nats.jetstreamManager();
    const info = await jsm.streams.info(this.changes.stream);
    if (info.state.last_seq === 0 || info.state.messages === 0) return 0;
    try {
      const last = await jsm.streams.getMessage(this.changes.stream, { seq: info.state.last_seq });
      const value = Number(last.header?.get(CHANGE_SOURCE_SEQUENCE_HEADER) ?? '0');
      return Number.isSafeInteger(value) && value > 0 ? value : 0;
    } catch (error) {
      if (isNotFound(error)) return 0;
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
