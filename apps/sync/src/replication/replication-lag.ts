import type { NatsConnectionManager } from '@cairn/messaging';
import type { EventEnvelope, ReplicationLagView } from '@cairn/protocol';
import type { JetStreamManager } from 'nats';
import { applyConsumerName, inboundStreamName, jetStreamManager, metaEventOf } from './peer-changes';
import type { InboundLinkWorker } from './inbound-link.worker';
import type { PeerReplicator } from './peer-replicator';

/** Pending events looked at to tell lag per bucket. */
const BUCKET_SCAN_MAX = 500;
const NANOS_PER_MS = 1_000_000;

/**
 * Replication lag per peer → this region, the measured RPO: events not yet applied here (sourced
 * but unapplied, plus what the source reports not yet sourced) and the age of the oldest of them.
 * While the link is down the source cannot say what it has: lag then counts from the last contact.
 */
export class ReplicationLag {
  private latest: ReplicationLagView[] = [];

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly region: string,
    private readonly inbound: readonly { readonly replicator: PeerReplicator; readonly link: InboundLinkWorker }[],
  ) {}

  /** The last measurement (refresh() takes a new one). */
  views(): ReplicationLagView[] {
    return this.latest;
  }

  async refresh(): Promise<ReplicationLagView[]> {
    // Asked once for every peer; when this region's NATS is away each view still tells its link's state.
    const jsm = jetStreamManager(this.nats);
    jsm.catch(() => undefined);
    this.latest = await Promise.all(this.inbound.map(({ replicator, link }) => this.measure(jsm, replicator, link)));
    return this.latest;
  }

  private async measure(jsmReady: Promise<JetStreamManager>, replicator: PeerReplicator, link: InboundLinkWorker): Promise<ReplicationLagView> {
    const stream = inboundStreamName(this.namespace, replicator.peer);
    const base = {
      source: replicator.peer,
      target: this.region,
      appliedEvents: replicator.counters.applied,
      lastAppliedAt: replicator.counters.lastAppliedAtMs === null ? null : new Date(replicator.counters.lastAppliedAtMs).toISOString(),
      link: link.view(),
    };
    // One answer to "is the link up": the link worker's, which also tells why not.
    const connected = link.connected;
    try {
      const jsm = await jsmReady;
      const [info, consumer] = await Promise.all([jsm.streams.info(stream), jsm.consumers.info(stream, applyConsumerName(this.namespace))]);
      const source = info.sources?.[0];
      const silentMs = source && source.active >= 0 ? source.active / NANOS_PER_MS : Number.POSITIVE_INFINITY;
      const unsourced = source?.lag ?? 0;
      const pendingEvents = consumer.num_pending + consumer.num_ack_pending + unsourced;
      const firstUnapplied = consumer.ack_floor.stream_seq + 1;
      const buckets = new Map<string, { pendingEvents: number; oldestMs: number }>();
      let oldestMs: number | null = null;
      for (let seq = firstUnapplied; seq <= info.state.last_seq && seq < firstUnapplied + BUCKET_SCAN_MAX; seq++) {
        const envelope = await this.envelopeAt(jsm, stream, replicator.peer, seq);
        if (!envelope) continue;
        const at = Date.parse(envelope.occurredAt);
        oldestMs ??= at;
        const bucket = (envelope.data as { bucket?: unknown })?.bucket;
        if (typeof bucket !== 'string') continue;
        const entry = buckets.get(bucket) ?? { pendingEvents: 0, oldestMs: at };
        entry.pendingEvents += 1;
        buckets.set(bucket, entry);
      }
      const now = Date.now();
      const ageOf = (ms: number | null) => (ms === null ? 0 : Math.max(0, (now - ms) / 1000));
      let lagSeconds = pendingEvents > 0 ? ageOf(oldestMs) : 0;
      if (!connected && Number.isFinite(silentMs)) lagSeconds = Math.max(lagSeconds, silentMs / 1000);
      return {
        ...base,
        connected,
        pendingEvents,
        lagSeconds,
        buckets: [...buckets.entries()].map(([bucket, b]) => ({ bucket, pendingEvents: b.pendingEvents, lagSeconds: ageOf(b.oldestMs) })),
      };
    } catch {
      return { ...base, connected, pendingEvents: 0, lagSeconds: 0, buckets: [] };
    }
  }

  private async envelopeAt(jsm: JetStreamManager, stream: string, source: string, seq: number): Promise<EventEnvelope | null> {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    return m ? metaEventOf(m.data, source, seq) : null;
  }
}
