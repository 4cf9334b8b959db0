import { decodeEvent, messagesOnSubject, type NatsConnectionManager } from '@cairn/messaging';
import {
  METADATA_SERVICE,
  MetadataRpc,
  REPLICATED_BUCKET_EVENT_TYPES,
  REPLICATED_OBJECT_EVENT_TYPES,
  subjectsFor,
  type ApplyReplicatedReply,
  type ChunkRef,
  type EventEnvelope,
  type ReplicationConfig,
} from '@cairn/protocol';
import type { RpcClient } from '@cairn/messaging';
import { AckPolicy, DeliverPolicy, type JetStreamManager, type StreamInfo, type StreamSource } from 'nats';
import type { ReplicaChunkPuller } from '../anti-entropy/replica-chunks.port';

/** How long a bucket's replication mode, as metadata answers it, is taken as current here. */
const BUCKET_MODE_TTL_MS = 2_000;
const APPLY_TIMEOUT_MS = 30_000;
/**
 * How soon a change delivered to a sync that died is delivered again. Short, so a restarted sync
 * (or another instance) resumes at once; a change that takes longer to apply (a big chunk pull)
 * keeps its delivery by telling the server it is still working on it (PeerReplicator).
 */
export const APPLY_ACK_WAIT_MS = 10_000;
const APPLY_ACK_WAIT_NS = APPLY_ACK_WAIT_MS * 1_000_000;

/** The stream in this region that sources `peer`'s META from its JetStream domain. */
export function inboundStreamName(namespace: string, peer: string): string {
  return `${subjectsFor(namespace).streamName('META')}_FROM_${peer}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The durable consumer that applies a peer's changes here; its ack floor is where replication resumes. */
export function applyConsumerName(namespace: string): string {
  return subjectsFor(namespace).durableName('sync-apply');
}

/** The source of a peer's inbound stream: the peer's META in the peer's JetStream domain, its `meta.` subjects only. */
export function inboundSourceOf(namespace: string, peer: string): StreamSource {
  const subjects = subjectsFor(namespace);
  return { name: subjects.streamName('META'), domain: peer, filter_subject: subjects.prefix('meta.>') };
}

/**
 * This region's copy of a peer's META, kept by JetStream stream sourcing across the link (the
 * peer's domain): it fills while the link is up, stops at a cut and resumes from where it stopped
 * after the heal — NATS's own machinery, nothing hand-written. Only `meta.` subjects come over.
 */
export async function ensureInboundStream(jsm: JetStreamManager, namespace: string, peer: string): Promise<string> {
  const name = inboundStreamName(namespace, peer);
  const source = inboundSourceOf(namespace, peer);
  let stream: StreamInfo | null = null;
  try {
    stream = await jsm.streams.info(name);
  } catch {
    await jsm.streams.add({ name, sources: [source] });
  }
  // A redial cut short between taking the source away and giving it back (InboundLinkWorker) left none.
  if (stream && !stream.config.sources?.some((s) => s.name === source.name)) await jsm.streams.update(name, { subjects: [], sources: [source] });
  const durable = applyConsumerName(namespace);
  let existing;
  try {
    existing = await jsm.consumers.info(name, durable);
  } catch {
    await jsm.consumers.add(name, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: APPLY_ACK_WAIT_NS, max_ack_pending: 4_096 });
  }
  if (existing && existing.config.ack_wait !== APPLY_ACK_WAIT_NS) await jsm.consumers.update(name, durable, { ack_wait: APPLY_ACK_WAIT_NS });
  return name;
}

export type ChangeOutcome = { readonly kind: 'applied'; readonly conflictId?: string } | { readonly kind: 'skipped'; readonly reason: string };

/** Whether a bucket takes other regions' changes here, from metadata (cached briefly). */
export class BucketModes {
  private readonly known = new Map<string, { readonly replication: ReplicationConfig | null; readonly atMs: number }>();
  /** Bumped by forget(): an answer asked for before a change of the bucket is not kept after it. */
  private generation = 0;

  constructor(private readonly rpc: RpcClient) {}

  /** Null when the bucket does not exist here. */
  async replicationOf(bucket: string): Promise<ReplicationConfig | null> {
    const cached = this.known.get(bucket);
    if (cached && Date.now() - cached.atMs < BUCKET_MODE_TTL_MS) return cached.replication;
    const asked = this.generation;
    const { replication } = await this.rpc.request<{ replication: ReplicationConfig | null }>(METADATA_SERVICE, MetadataRpc.bucketReplication, { bucket });
    // Only a replicated answer is kept: "not here" or "local" may change any moment, and a change
    // skipped on a stale answer would wait for anti-entropy.
    if (asked === this.generation && isReplicated(replication)) this.known.set(bucket, { replication, atMs: Date.now() });
    return replication;
  }

  forget(bucket: string): void {
    this.generation += 1;
    this.known.delete(bucket);
  }
}

const isReplicated = (replication: ReplicationConfig | null | undefined) => replication !== null && replication !== undefined && replication.mode !== 'local';

/**
 * Applies one of a peer's META events here, if it is the peer's own change of a bucket replicated
 * to this region (docs/replication.md): the version's chunks first (pulled from the peer unless
 * held here), then metadata decides it (in order, once, conflicts resolved). Throws when it cannot
 * be applied yet (the caller retries); anything that is not for this region is skipped.
 */
export class PeerChangeApplier {
  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly rpc: RpcClient,
    private readonly buckets: BucketModes,
    private readonly chunks: ReplicaChunkPuller,
    private readonly onBucketReplicated: (bucket: string) => void,
  ) {}

  async apply(peer: string, sequence: number, data: Uint8Array, signal: AbortSignal, options: { readonly backfill?: boolean } = {}): Promise<ChangeOutcome> {
    const envelope = metaEventOf(data, peer, sequence);
    if (envelope === null) return { kind: 'skipped', reason: 'not an event envelope' };
    if ((envelope.origin ?? envelope.region) !== peer) return { kind: 'skipped', reason: `a change of ${envelope.origin ?? envelope.region}, not of ${peer}` };
    const isBucketEvent = REPLICATED_BUCKET_EVENT_TYPES.has(envelope.type);
    if (!isBucketEvent && !REPLICATED_OBJECT_EVENT_TYPES.has(envelope.type)) return { kind: 'skipped', reason: `${envelope.type} does not replicate` };
    const d = envelope.data as { bucket?: unknown; replication?: ReplicationConfig; chunks?: readonly ChunkRef[] };
    if (typeof d?.bucket !== 'string') return { kind: 'skipped', reason: 'no bucket' };
    const bucket = d.bucket;
    const here = options.backfill ? { mode: 'active-active' as const } : await this.buckets.replicationOf(bucket);
    const setsReplication = envelope.type === 'BucketCreated' || envelope.type === 'BucketReplicationChanged';
    const wanted = isReplicated(here) || (setsReplication && isReplicated(d.replication));
    if (!wanted) return { kind: 'skipped', reason: `bucket ${bucket} is not replicated here` };
    // A bucket that becomes replicated after it was made (its creation skipped here as local): its
    // earlier changes come first, from this region's copy of the peer's stream, so it exists here.
    if (setsReplication && !isReplicated(here) && (await this.buckets.replicationOf(bucket)) === null) {
      await this.applyBucketHistory(peer, bucket, sequence, signal);
    }
    if (Array.isArray(d.chunks) && d.chunks.length > 0) await this.chunks.ensureChunks(peer, d.chunks, signal);
    const reply = await this.rpc.request<ApplyReplicatedReply>(
      METADATA_SERVICE,
      MetadataRpc.applyReplicated,
      { sourceRegion: peer, sourceSequence: sequence, envelope },
      { timeoutMs: APPLY_TIMEOUT_MS },
    );
    if (isBucketEvent) {
      this.buckets.forget(bucket);
      if (setsReplication && isReplicated(d.replication)) this.onBucketReplicated(bucket);
    }
    return reply.applied ? { kind: 'applied', ...(reply.conflictId ? { conflictId: reply.conflictId } : {}) } : { kind: 'skipped', reason: 'applied before' };
  }

  /** The peer's changes of a bucket before `beforeSequence`, applied in order (they apply once: metadata skips what it has). */
  private async applyBucketHistory(peer: string, bucket: string, beforeSequence: number, signal: AbortSignal): Promise<void> {
    const jsm = await jetStreamManager(this.nats);
    try {
      for await (const m of messagesOnSubject(jsm, inboundStreamName(this.namespace, peer), subjectsFor(this.namespace).bucket(bucket), { beforeSequence })) {
        signal.throwIfAborted();
        const envelope = metaEventOf(m.data, peer, m.seq);
        if (envelope && (envelope.origin ?? envelope.region) === peer && REPLICATED_BUCKET_EVENT_TYPES.has(envelope.type)) {
          await this.rpc.request<ApplyReplicatedReply>(METADATA_SERVICE, MetadataRpc.applyReplicated, { sourceRegion: peer, sourceSequence: m.seq, envelope }, { timeoutMs: APPLY_TIMEOUT_MS });
        }
      }
    } finally {
      this.buckets.forget(bucket);
    }
  }
}

/**
 * A message of a region's META (its own, or a peer's copy) as an event, upcast to its type's current shape like any event read
 * here (decodeEvent); null when it is not one.
 */
export function metaEventOf(data: Uint8Array, region: string, sequence: number): EventEnvelope | null {
  try {
    return decodeEvent(data, `META of ${region} #${sequence}`);
  } catch {
    return null;
  }
}

/** The JetStream manager of this region. */
export async function jetStreamManager(nats: NatsConnectionManager): Promise<JetStreamManager> {
  return (await nats.connection()).jetstreamManager();
}
