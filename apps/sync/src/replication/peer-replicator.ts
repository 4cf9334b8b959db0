import type { NatsConnectionManager } from '@cairn/messaging';
import type { JsMsg } from 'nats';
import { APPLY_ACK_WAIT_MS, applyConsumerName, ensureInboundStream, jetStreamManager, type ChangeOutcome, type PeerChangeApplier } from './peer-changes';

/** Backoff of a change that could not be applied yet (its bucket or an earlier change has not arrived, the link is down). */
const RETRY_DELAY_MS = 1_000;
/** Past this many deliveries a change that still fails is logged loudly at every attempt: someone must look. */
const LOUD_AFTER_DELIVERIES = 30;
const RESTART_DELAY_MS = 1_000;
const FETCH_EXPIRES_MS = 1_000;

export interface ReplicatorLog {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** What one peer's replication has done, for lag and metrics. */
export interface PeerReplicationCounters {
  applied: number;
  skipped: number;
  conflicts: number;
  failures: number;
  lastAppliedAtMs: number | null;
  lastError: string | null;
}

/**
 * Applies one peer region's changes here, from this region's copy of the peer's META (sourced by
 * JetStream) through a durable consumer: resumable from its ack floor after any outage or kill -9,
 * each change acknowledged only once metadata has it. Changes of different keys apply in
 * parallel; those of one key one after another, in stream order — and metadata refuses any that
 * would jump ahead of an earlier one (OutOfOrder), so a redelivery out of order only waits.
 */
export class PeerReplicator {
  readonly counters: PeerReplicationCounters = { applied: 0, skipped: 0, conflicts: 0, failures: 0, lastAppliedAtMs: null, lastError: null };
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  streamName: string | null = null;

  constructor(
    readonly peer: string,
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly applier: PeerChangeApplier,
    private readonly options: { readonly batch: number; readonly concurrency: number },
    private readonly log: ReplicatorLog,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    await Promise.all([...this.chains.values()].map((c) => c.tail));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const jsm = await jetStreamManager(this.nats);
        this.streamName = await ensureInboundStream(jsm, this.namespace, this.peer);
        const consumer = await (await this.nats.connection()).jetstream().consumers.get(this.streamName, applyConsumerName(this.namespace));
        while (!this.stopped) {
          // Each change is handed on as it arrives (a round does not wait to be full); the next
          // round starts once this one's changes are applied or handed back.
          const messages = await consumer.fetch({ max_messages: this.options.batch, expires: FETCH_EXPIRES_MS });
          for await (const m of messages) this.enqueue(m);
          await Promise.all([...this.chains.values()].map((c) => c.tail));
        }
      } catch (error) {
        if (this.stopped) return;
        this.counters.lastError = String((error as Error)?.message ?? error);
        this.log.warn({ peer: this.peer, err: error }, 'replication from peer interrupted; resuming');
        await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS));
      }
    }
  }

  /**
   * One chain per subject (a key, or a bucket's settings): its changes apply one after another, in
   * stream order. After a failure, the rest of that subject's chain is handed back too (nothing of
   * a key may overtake a change that waits); the chain is free again once it has drained.
   */
  private enqueue(m: JsMsg): void {
    const chain = this.chains.get(m.subject) ?? { tail: Promise.resolve(), length: 0, blocked: false };
    chain.length += 1;
    chain.tail = chain.tail.then(async () => {
      try {
        if (chain.blocked || this.stopped) m.nak(RETRY_DELAY_MS);
        else if (!(await this.withSlot(() => this.applyOne(m)))) chain.blocked = true;
      } finally {
        chain.length -= 1;
        if (chain.length === 0) this.chains.delete(m.subject);
      }
    });
    this.chains.set(m.subject, chain);
  }

  private readonly chains = new Map<string, { tail: Promise<void>; length: number; blocked: boolean }>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  /** At most `concurrency` changes apply at once. */
  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
      this.waiting.shift()?.();
    }
  }

  /** True when applied (or skipped); false when handed back to be delivered again. */
  private async applyOne(m: JsMsg): Promise<boolean> {
      let outcome: ChangeOutcome;
      const stillWorking = setInterval(() => m.working(), APPLY_ACK_WAIT_MS / 2);
      try {
        outcome = await this.applier.apply(this.peer, m.seq, m.data, this.abort.signal);
      } catch (error) {
        this.counters.failures += 1;
        this.counters.lastError = String((error as Error)?.message ?? error);
        const deliveries = m.info.redeliveryCount;
        const details = { peer: this.peer, subject: m.subject, sequence: m.seq, deliveries, err: error };
        if (deliveries >= LOUD_AFTER_DELIVERIES) this.log.error(details, 'a change from the peer keeps failing to apply; retrying');
        else if (deliveries === 1) this.log.warn(details, 'a change from the peer could not be applied yet; retrying');
        m.nak(RETRY_DELAY_MS);
        return false;
      } finally {
        clearInterval(stillWorking);
      }
      if (outcome.kind === 'applied') {
        this.counters.applied += 1;
        this.counters.lastAppliedAtMs = Date.now();
        if (outcome.conflictId) this.counters.conflicts += 1;
      } else {
        this.counters.skipped += 1;
      }
      m.ack();
      return true;
  }
}
