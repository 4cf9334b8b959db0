import type { NatsConnectionManager } from '@cairn/messaging';
import type { JsMsg } from 'nats';
import { APPLY_ACK_WAIT_MS, applyConsumerName, ensureInboundStream, jetStreamManager, type ChangeOutcome, type PeerChangeApplier } from './peer-changes';

/** Backoff of a change that could not be applied yet (its bucket or an earlier change has not arrived, the link is down). */
const RETRY_DELAY_MS = 1_000;
/** Past this many deliveries a change that still fails is logged loudly at every attempt: someone must look. */
const LOUD_AFTER_DELIVERIES = 30;
const FETCH_EXPIRES_MS = 1_000;
const RESTART_DELAY_MS = 1_000;

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
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const jsm = await jetStreamManager(this.nats);
        this.streamName = await ensureInboundStream(jsm, this.namespace, this.peer);
        const consumer = await (await this.nats.connection()).jetstream().consumers.get(this.streamName, applyConsumerName(this.namespace));
        while (!this.stopped) {
          const batch: JsMsg[] = [];
          const messages = await consumer.fetch({ max_messages: this.options.batch, expires: FETCH_EXPIRES_MS });
          for await (const m of messages) batch.push(m);
          if (batch.length > 0) await this.applyBatch(batch);
        }
      } catch (error) {
        if (this.stopped) return;
        this.counters.lastError = String((error as Error)?.message ?? error);
        this.log.warn({ peer: this.peer, err: error }, 'replication from peer interrupted; resuming');
        await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS));
      }
    }
  }

  /** Per subject (key or bucket) in order; subjects side by side, a bounded number at a time. */
  private async applyBatch(batch: readonly JsMsg[]): Promise<void> {
    const bySubject = new Map<string, JsMsg[]>();
    for (const m of batch) bySubject.set(m.subject, [...(bySubject.get(m.subject) ?? []), m]);
    // Bucket changes first: a key's changes need their bucket here.
    const queues = [...bySubject.entries()].sort(([a], [b]) => Number(!a.includes('meta.bucket.')) - Number(!b.includes('meta.bucket.'))).map(([, q]) => q);
    const bucketQueues = queues.filter((q) => q[0].subject.includes('meta.bucket.'));
    await Promise.all(bucketQueues.map((q) => this.applyInOrder(q)));
    const keyQueues = queues.filter((q) => !q[0].subject.includes('meta.bucket.'));
    let next = 0;
    const workers = Array.from({ length: Math.min(this.options.concurrency, keyQueues.length) }, async () => {
      while (next < keyQueues.length) await this.applyInOrder(keyQueues[next++]);
    });
    await Promise.all(workers);
  }

  private async applyInOrder(queue: readonly JsMsg[]): Promise<void> {
    for (let i = 0; i < queue.length; i++) {
      const m = queue[i];
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
        // This one and the rest of its key wait: nothing of the key may overtake it.
        for (const rest of queue.slice(i)) rest.nak(RETRY_DELAY_MS);
        return;
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
    }
  }
}
