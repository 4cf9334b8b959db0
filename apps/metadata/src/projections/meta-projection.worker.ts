import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { StoredEvent } from '@cairn/eventing';
import { backoffFor, decodeEvent, ensureStreams, NatsConnectionManager, publishDeadLetter } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import { SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, type BaseServiceConfig, type NamedWorker, type ServiceIdentity, type WorkerState, type WorkerStatus } from '@cairn/service-kit';
import { AckPolicy, DeliverPolicy, nanos, type JetStreamManager, type JsMsg } from 'nats';
import { ProjectionTracker } from './projection-tracker';
import { META_PROJECTOR_DURABLE, projectedSubject } from './projection-streams';

/** Events fetched and committed in one projection transaction (also the consumer's max ack pending). */
export const META_PROJECTION_BATCH = 256;
/** Lifetime of each pull request the consumer keeps open (renewed automatically). */
const FETCH_EXPIRES_MS = 1_000;
const ACK_WAIT_MS = 30_000;
/** A batch that fails is retried event by event; an event whose projection failed this often is parked. */
const MAX_FAILURES = 5;
const RETRY_BACKOFF_MS = [50, 200, 1_000, 2_000, 5_000] as const;
/** After a gap (another instance's earlier batch not yet committed), wait this long and retry. */
const GAP_RETRY_MS = 20;
const RESTART_DELAY_MS = 1_000;

/**
 * The META projector as a named worker (listed on /health and /metrics): takes what the durable
 * consumer has delivered, up to META_PROJECTION_BATCH events, projects it in ONE transaction (rows +
 * checkpoint), then acks it; a lone event is projected at once, a burst shares one transaction. It
 * consumes the stream itself rather than through the transport (which hands `@EventPattern`
 * handlers one event at a time), because it acks the events up to the checkpoint, hands those past
 * a hole back, and steps the checkpoint over a parked event. It is the one batching consumer; it
 * shares the transport's backoff rule (backoffFor) and parking (publishDeadLetter).
 *
 * Order across instances sharing the durable: batches commit under the checkpoint row lock and the
 * projector refuses a batch that does not start right after the checkpoint (every META sequence is
 * projected), so an instance that fetched a later batch waits for the earlier one. A poison event
 * is retried, then parked on the dead-letter subject with its error, and only it is skipped.
 */
@Injectable()
export class MetaProjectionWorker implements NamedWorker, OnApplicationBootstrap, OnApplicationShutdown {
  readonly name = 'metadata-meta-projector';
  private readonly logger = new Logger('MetaProjectionWorker');
  private state: WorkerState = 'idle';
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly counters = { batches: 0, events: 0, gaps: 0, failures: 0, parked: 0 };
  /** Failed projections per sequence; handing an event back past a hole is not a failure. */
  private readonly failuresBySequence = new Map<number, number>();
  private lastError: { readonly message: string; readonly at: string } | undefined;
  private stream: { close(): Promise<void | Error> } | undefined;

  constructor(
    private readonly tracker: ProjectionTracker,
    private readonly nats: NatsConnectionManager,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) private readonly config: BaseServiceConfig,
  ) {}

  /** A run is a batch committed; the other counters are in the detail. */
  status(): WorkerStatus {
    const { batches, events, gaps, failures, parked } = this.counters;
    return {
      name: this.name,
      state: this.state,
      runs: batches,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: { doneItems: events, detail: `${gaps} gaps, ${failures} failed batches, ${parked} parked` },
    };
  }

  onApplicationBootstrap(): void {
    this.workers.register(this);
    this.loop = this.run();
  }

  /** Lets a fetch in flight finish (its batch commits or is redelivered); never waits on an absent NATS. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => undefined);
    await Promise.race([this.loop, sleep(2 * FETCH_EXPIRES_MS)]);
    this.state = 'stopped';
    this.workers.unregister(this.name);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.consume();
      } catch (error) {
        if (this.stopped) return;
        this.recordError(error);
        this.state = 'failed';
        this.logger.warn(`META projector restarting: ${String(error)}`);
        await sleep(RESTART_DELAY_MS);
      }
    }
  }

  private async consume(): Promise<void> {
    const ns = this.identity.namespace;
    const subjects = subjectsFor(ns);
    const jsm = await this.nats.jetstreamManager();
    await ensureStreams(jsm, ns, this.config.CAIRN_STREAM_REPLICAS);
    await ensureProjectorConsumer(jsm, ns);
    const js = await this.nats.jetstream();
    const consumer = await js.consumers.get(subjects.streamName('META'), subjects.durableName(META_PROJECTOR_DURABLE));
    // consume() keeps pull requests open; a batch is the first message plus whatever is buffered
    // behind it, so a lone event is projected at once and a burst shares one transaction.
    const messages = await consumer.consume({ max_messages: META_PROJECTION_BATCH, expires: FETCH_EXPIRES_MS });
    this.stream = messages;
    this.state = 'running';
    const buffer: JsMsg[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const reader = (async () => {
      try {
        for await (const m of messages) {
          buffer.push(m);
          wake?.();
        }
      } finally {
        ended = true;
        wake?.();
      }
    })();
    try {
      while (!this.stopped && !ended) {
        if (buffer.length === 0) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        await this.handle(buffer.splice(0, META_PROJECTION_BATCH));
      }
    } finally {
      await messages.close().catch(() => undefined);
      await reader.catch(() => undefined);
    }
  }

  private async handle(delivered: JsMsg[]): Promise<void> {
    // A redelivery (ack wait passed while Postgres was away) can sit beside its first delivery.
    const bySequence = new Map<number, JsMsg[]>();
    for (const m of delivered) bySequence.set(m.seq, [...(bySequence.get(m.seq) ?? []), m]);
    const sequences = [...bySequence.keys()].sort((x, y) => x - y);
    try {
      // Decoding is inside: an event its upcaster cannot read is a poison event like any other,
      // retried then parked below, never a projector that restarts on it forever.
      const events = sequences.map((seq) => toStored(bySequence.get(seq)![0]));
      const checkpoint = await this.tracker.projectBatch('META', events, { contiguous: true });
      this.settle(delivered, checkpoint);
      this.counters.batches += 1;
      return;
    } catch (error) {
      this.counters.failures += 1;
      this.recordError(error);
    }
    // The batch failed: go event by event, so one poison event cannot hold the others back.
    for (const [i, seq] of sequences.entries()) {
      const copies = bySequence.get(seq)!;
      const rest = () => sequences.slice(i).flatMap((s) => bySequence.get(s)!);
      try {
        const checkpoint = await this.tracker.projectBatch('META', [toStored(copies[0])], { contiguous: true });
        if (checkpoint < seq) {
          this.settle(rest(), checkpoint);
          return;
        }
        for (const m of copies) m.ack();
        this.failuresBySequence.delete(seq);
        this.counters.events += 1;
      } catch (error) {
        const failures = (this.failuresBySequence.get(seq) ?? 0) + 1;
        this.failuresBySequence.set(seq, failures);
        if (failures >= MAX_FAILURES) {
          this.failuresBySequence.delete(seq);
          await this.park(copies[0], error, failures);
          for (const m of copies.slice(1)) m.term();
          continue;
        }
        this.logger.warn(`META #${seq} failed (${failures}/${MAX_FAILURES}): ${String(error)}`);
        for (const m of rest()) m.nak(backoffFor(failures, RETRY_BACKOFF_MS));
        return;
      }
    }
  }

  private recordError(error: unknown): void {
    this.lastError = { message: String(error), at: new Date().toISOString() };
  }

  /** Acks what the checkpoint covers; hands back the events past a hole (an earlier batch of another instance). */
  private settle(messages: readonly JsMsg[], checkpoint: number): void {
    let handedBack = 0;
    for (const m of messages) {
      if (m.seq <= checkpoint) {
        m.ack();
        this.counters.events += 1;
        this.failuresBySequence.delete(m.seq);
      } else {
        m.nak(GAP_RETRY_MS);
        handedBack += 1;
      }
    }
    if (handedBack > 0) this.counters.gaps += 1;
  }

  /** Parks a poison event on the dead-letter subject with its error, then steps the checkpoint over it. */
  private async park(m: JsMsg, error: unknown, failures: number): Promise<void> {
    await publishDeadLetter(await this.nats.jetstream(), this.identity.namespace, 'META', META_PROJECTOR_DURABLE, m, String(error), failures);
    await this.tracker.skip('META', m.seq);
    this.counters.parked += 1;
    this.logger.error(`parked META #${m.seq} after ${failures} failed projections: ${String(error)}`);
    m.term();
  }
}

/**
 * The projector's durable: unlimited deliveries (events handed back past a hole are redelivered as
 * often as it takes; this worker parks poison events itself), at most one batch unacknowledged.
 */
async function ensureProjectorConsumer(jsm: JetStreamManager, ns: string): Promise<void> {
  const s = subjectsFor(ns);
  const stream = s.streamName('META');
  const durable = s.durableName(META_PROJECTOR_DURABLE);
  const wanted = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: projectedSubject('META', ns),
    max_deliver: -1,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: META_PROJECTION_BATCH,
  };
  try {
    const info = await jsm.consumers.info(stream, durable);
    const c = info.config;
    if (c.filter_subject !== wanted.filter_subject || c.max_deliver !== wanted.max_deliver || c.ack_wait !== wanted.ack_wait || c.max_ack_pending !== wanted.max_ack_pending) {
      await jsm.consumers.update(stream, durable, { filter_subject: wanted.filter_subject, max_deliver: -1, ack_wait: wanted.ack_wait, max_ack_pending: wanted.max_ack_pending });
    }
  } catch (error) {
    const e = error as { code?: string; api_error?: { err_code?: number } };
    if (e?.code !== '404' && e?.api_error?.err_code !== 10014) throw error;
    await jsm.consumers.add(stream, { durable_name: durable, ...wanted });
  }
}

/** The delivered event in its current shape (upcast here, where it is read from the stream). */
function toStored(m: JsMsg): StoredEvent {
  return { envelope: decodeEvent(m.data, `META #${m.seq}`), sequence: m.seq };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
