import { CairnError, METADATA_SERVICE, MetadataErrorCodes, MetadataRpc, REPLICATED_OBJECT_EVENT_TYPES, type ApplyReplicatedReply, type ApplyReplicatedRequest, type ChunkRef, type EventEnvelope } from '@cairn/protocol';
import type { AntiEntropyPeer } from './anti-entropy.peer';
import { storedChunksOf, type ReplicaChunkPuller } from './replica-chunks.port';

/** How anti-entropy applies a change here: MetadataRpc.applyReplicated through the region's RpcClient. */
export type ApplyReplicated = (request: ApplyReplicatedRequest) => Promise<ApplyReplicatedReply>;

export interface KeyRepairOutcome {
  readonly eventsFetched: number;
  readonly eventsApplied: number;
  readonly eventsAlreadyApplied: number;
  readonly chunksPulled: number;
  /** Set when the key could not be repaired completely (what was applied before stays applied). */
  readonly error?: string;
  /** The bucket does not exist here (yet): the rest of the bucket cannot be repaired either. */
  readonly noSuchBucket?: boolean;
}

/** Event types that put a version whose chunks must be here before it is applied. */
const VERSION_PUTS: ReadonlySet<string> = new Set(['ObjectVersionPut', 'ObjectVersionCopied']);

/**
 * Repairs one key from a peer: reads the key's events from the peer's META (all but this region's
 * own changes), and applies each here in the peer's stream order through applyReplicated, as
 * replication would have — the source region being the event's origin (or the peer itself for its
 * own changes). Metadata applies each change exactly once, so events this region already has answer
 * `applied: false` and cost nothing. Before a version whose chunks live on storage is applied, its
 * chunks are pulled (unless this region already holds that version).
 */
export async function repairKey(options: {
  readonly self: string;
  readonly bucket: string;
  readonly keyId: string;
  readonly peer: Pick<AntiEntropyPeer, 'region' | 'keyEvents'>;
  readonly apply: ApplyReplicated;
  readonly chunks: ReplicaChunkPuller;
  /** The version ids this region holds of the key (read when needed). */
  readonly localVersionIds: () => Promise<ReadonlySet<string>>;
  readonly signal: AbortSignal;
}): Promise<KeyRepairOutcome> {
  const { self, bucket, keyId, peer, apply, chunks, signal } = options;
  let eventsFetched = 0;
  let eventsApplied = 0;
  let eventsAlreadyApplied = 0;
  let chunksPulled = 0;
  let local: ReadonlySet<string> | undefined;
  const outcome = (extra: Partial<KeyRepairOutcome> = {}): KeyRepairOutcome => ({ eventsFetched, eventsApplied, eventsAlreadyApplied, chunksPulled, ...extra });
  let afterSequence = 0;
  for (;;) {
    signal.throwIfAborted();
    const page = await peer.keyEvents({ bucket, keyId, afterSequence, excludeOrigin: self });
    eventsFetched += page.events.length;
    for (const { sequence, envelope } of page.events) {
      signal.throwIfAborted();
      const sourceRegion = envelope.origin ?? envelope.region;
      if (sourceRegion === self || !REPLICATED_OBJECT_EVENT_TYPES.has(envelope.type)) continue;
      const stored = storedChunksOf(chunksOf(envelope));
      if (stored.length > 0) {
        local ??= await options.localVersionIds();
        if (!local.has(versionIdOf(envelope))) {
          try {
            chunksPulled += await chunks.ensureChunks(peer.region, stored, signal);
          } catch (error) {
            return outcome({ error: `${envelope.type} ${versionIdOf(envelope)} (${peer.region} #${sequence}): chunks: ${messageOf(error)}` });
          }
        }
      }
      try {
        const reply = await apply({ sourceRegion, sourceSequence: sequence, envelope });
        if (reply.applied) eventsApplied += 1;
        else eventsAlreadyApplied += 1;
      } catch (error) {
        const code = error instanceof CairnError ? error.code : undefined;
        // Nothing later of the key may go in before this one (REPLICATION_OUT_OF_ORDER: an earlier change of
        // the key from that region is missing here and from the peer's history too): the key is reported.
        return outcome({
          error: `${envelope.type} (${peer.region} #${sequence}, from ${sourceRegion}): ${code ?? ''} ${messageOf(error)}`.trim(),
          ...(code === MetadataErrorCodes.NoSuchBucket ? { noSuchBucket: true } : {}),
        });
      }
    }
    if (!page.isTruncated) return outcome();
    afterSequence = page.throughSequence;
  }
}

function chunksOf(envelope: EventEnvelope): readonly ChunkRef[] | undefined {
  if (!VERSION_PUTS.has(envelope.type)) return undefined;
  return (envelope.data as { chunks?: readonly ChunkRef[] }).chunks;
}

function versionIdOf(envelope: EventEnvelope): string {
  return String((envelope.data as { versionId?: unknown }).versionId ?? '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The applyReplicated call of a region's RpcClient. */
export function applyThrough(rpc: { request<T>(service: string, pattern: string, payload: unknown, options?: { timeoutMs?: number }): Promise<T> }, timeoutMs: number): ApplyReplicated {
  return (request) => rpc.request<ApplyReplicatedReply>(METADATA_SERVICE, MetadataRpc.applyReplicated, request, { timeoutMs });
}
