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
/**
 * A batch past a gap (another instance holds the earlier events) waits up to this long for that
 * instance to commit them, then is handed back (its holder may be dead: its events only come back
 * after the ack wait).
 */
const GAP_WAIT_MS = 2_000;
/**
 * The wait wakes on the other instance's commit (its checkpoint notification) and polls the
 * checkpoint row as well: every GAP_POLL_MS while notifications are not heard, every
 * GAP_FALLBACK_POLL_MS (a lost notification's cost) while they are.
 */
const GAP_POLL_MS = 1;
export const GAP_FALLBACK_POLL_MS = 100;
/** A batch handed back after a gap is redelivered after this long. */
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
  /** Wakes a gap wait: a delivery came in (it may fill the gap) or shutdown began. */
  private wakeGapWait: (() => void) | undefined;
  /** The gap wait's poll while notifications are heard (tests raise it to prove it wakes on them). */
  gapFallbackPollMs = GAP_FALLBACK_POLL_MS;

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
    this.wakeGapWait?.();
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
          this.wakeGapWait?.();
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
        const kept = await this.handle(buffer.splice(0, META_PROJECTION_BATCH), (from, to) => buffer.some((m) => m.seq > from && m.seq < to));
        if (kept.length > 0) {
          // The events before them are in this buffer (a redelivery): project those first.
          buffer.push(...kept);
          buffer.sort((x, y) => x.seq - y.seq);
        }
      }
    } finally {
      await messages.close().catch(() => undefined);
      await reader.catch(() => undefined);
    }
  }

  /**
   * Projects a batch; the part past a gap (an earlier batch another instance holds) waits for that
   * instance's commit rather than going back to the server at once, where it would again be split
   * between the instances. `holdsEarlier(from, to)` says whether this instance's own buffer holds
   * an event between two sequences (a redelivery): then the gap is its own, and the events past it
   * are answered unsettled, to go back into the buffer behind those (never handed back to the
   * server: that reshuffles the stream between the instances again).
   */
  private async handle(delivered: JsMsg[], holdsEarlier: (from: number, to: number) => boolean = () => false): Promise<JsMsg[]> {
    // A redelivery (ack wait passed while Postgres was away) can sit beside its first delivery.
    const bySequence = new Map<number, JsMsg[]>();
    for (const m of delivered) bySequence.set(m.seq, [...(bySequence.get(m.seq) ?? []), m]);
    let sequences = [...bySequence.keys()].sort((x, y) => x - y);
    try {
      // Decoding is inside: an event its upcaster cannot read is a poison event like any other,
      // retried then parked below, never a projector that restarts on it forever.
      const events = sequences.map((seq) => toStored(bySequence.get(seq)![0]));
      let pending = delivered;
      const deadline = Date.now() + GAP_WAIT_MS;
      let checkpoint = await this.tracker.projectBatch('META', events, { contiguous: true });
      this.counters.batches += 1;
      for (;;) {
        const rest = this.ackCovered(pending, checkpoint);
        if (rest.length === 0) return [];
        const next = Math.min(...rest.map((m) => m.seq));
        const waited = await this.awaitCheckpoint(checkpoint, next - 1, deadline, holdsEarlier);
        if (waited === 'own') return rest;
        if (waited !== 'reached') {
          this.settle(rest, checkpoint);
          return [];
        }
        pending = rest;
        sequences = sequences.filter((seq) => seq > checkpoint);
        checkpoint = await this.tracker.projectBatch('META', sequences.map((seq) => toStored(bySequence.get(seq)![0])), { contiguous: true });
        this.counters.batches += 1;
      }
    } catch (error) {
      this.counters.failures += 1;
      this.recordError(error);
    }
    // The batch (or its part past a gap) failed: go event by event over what is not acked yet, so
    // one poison event cannot hold the others back.
    for (const [i, seq] of sequences.entries()) {
      const copies = bySequence.get(seq)!;
      const rest = () => sequences.slice(i).flatMap((s) => bySequence.get(s)!);
      try {
        const checkpoint = await this.tracker.projectBatch('META', [toStored(copies[0])], { contiguous: true });
        if (checkpoint < seq) {
          this.settle(rest(), checkpoint);
          return [];
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
        return [];
      }
    }
    return [];
  }

  private recordError(error: unknown): void {
    this.lastError = { message: String(error), at: new Date().toISOString() };
  }

  /** Acks what the checkpoint covers; answers the rest. */
  private ackCovered(messages: readonly JsMsg[], checkpoint: number): JsMsg[] {
    const rest: JsMsg[] = [];
    for (const m of messages) {
      if (m.seq <= checkpoint) {
        m.ack();
        this.counters.events += 1;
        this.failuresBySequence.delete(m.seq);
      } else {
        rest.push(m);
      }
    }
    return rest;
  }

  /**
   * Waits until the checkpoint reaches `sequence` (another instance committed the events before
   * this batch): 'reached' then; 'own' when this instance's own buffer holds an event in the gap;
   * 'timeout' past the batch's deadline (GAP_WAIT_MS in all) or on shutdown. It wakes on the
   * commit's notification, on a delivery, and on its poll of the checkpoint row. The wait stays far
   * within the ack wait, so the waiting batch is not redelivered meanwhile.
   */
  private async awaitCheckpoint(
    checkpoint: number,
    sequence: number,
    deadline: number,
    holdsEarlier: (from: number, to: number) => boolean,
  ): Promise<'reached' | 'own' | 'timeout'> {
    while (!this.stopped) {
      if (holdsEarlier(checkpoint, sequence + 1)) return 'own';
      if (this.tracker.committed('META') >= sequence) return 'reached';
      const left = deadline - Date.now();
      if (left <= 0) break;
      if ((await this.nextWake(Math.min(left, this.tracker.pollIntervalMs(GAP_POLL_MS)))) === 'timeout') {
        checkpoint = await this.tracker.checkpoint('META');
        if (checkpoint >= sequence) return 'reached';
      }
    }
    return 'timeout';
  }

  /** Resolves at the next advance of the known META checkpoint, delivery or shutdown ('woken'), or after `timeoutMs`. */
  private nextWake(timeoutMs: number): Promise<'woken' | 'timeout'> {
    return new Promise((resolve) => {
      const done = (why: 'woken' | 'timeout') => {
        clearTimeout(timer);
        unsubscribe();
        if (this.wakeGapWait === woken) this.wakeGapWait = undefined;
        resolve(why);
      };
      const woken = () => done('woken');
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      timer.unref();
      const unsubscribe = this.tracker.onAdvance('META', woken);
      this.wakeGapWait = woken;
    });
  }

  /** Acks what the checkpoint covers; hands back the events past a hole (an earlier batch of another instance). */
  private settle(messages: readonly JsMsg[], checkpoint: number): void {
    const handedBack = this.ackCovered(messages, checkpoint);
    for (const m of handedBack) m.nak(GAP_RETRY_MS);
    if (handedBack.length > 0) this.counters.gaps += 1;
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
