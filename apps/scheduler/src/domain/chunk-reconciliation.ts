import type { ContentHash, HashRing } from '@cairn/hashing';
import type { ShardPlacement } from '@cairn/protocol';

/** What the sweep saw of one chunk: who holds it (among the nodes it could list) and who references it. */
export interface ChunkObservation {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  /** Nodes whose listing named the chunk. */
  readonly holders: readonly string[];
  /** Null when no object version, part or open upload names the chunk. */
  readonly reference: { readonly replicationFactor: number; readonly stripes?: readonly ShardPlacement[] } | null;
}

export interface ReconcileContext {
  readonly ring: HashRing;
  /** Nodes whose listing answered in this sweep; nothing is decided about the others. */
  readonly listed: ReadonlySet<string>;
}

/**
 * What to do about one chunk. `copy` brings the ring's replica set up to the replication factor
 * (a `repair` when the bytes were simply missing, a `rebalance` when a node the ring no longer
 * names still holds them), then `trim`s the copies the ring no longer names. `unreferenced`
 * chunks are garbage-collection candidates; `lost` is a referenced chunk no listed node holds.
 */
export type ChunkAction =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'copy'; readonly reason: 'repair' | 'rebalance'; readonly to: readonly string[]; readonly sources: readonly string[]; readonly trim: readonly string[]; readonly expected: readonly string[] }
  | { readonly kind: 'trim'; readonly from: readonly string[]; readonly expected: readonly string[] }
  | { readonly kind: 'unreferenced'; readonly holders: readonly string[] }
  | { readonly kind: 'lost' }
  /** A shard of an erasure-coded chunk that no node holds: rebuilt from the stripe's other shards. */
  | { readonly kind: 'rebuild'; readonly to: readonly string[]; readonly stripes: readonly ShardPlacement[] }
  | { readonly kind: 'unknown' };

export function reconcileChunk(chunk: ChunkObservation, context: ReconcileContext): ChunkAction {
  if (!chunk.reference) return chunk.holders.length > 0 ? { kind: 'unreferenced', holders: chunk.holders } : { kind: 'healthy' };
  const { ring, listed } = context;
  const expected = expectedHolders(ring, chunk.hash, chunk.reference);
  const held = new Set(chunk.holders);
  const missing = expected.filter((n) => !held.has(n) && listed.has(n));
  const surplus = chunk.holders.filter((n) => !expected.includes(n));
  // Surplus copies go only once every replica the ring names is known to hold the chunk.
  const everyExpectedListed = expected.every((n) => listed.has(n));
  const trim = everyExpectedListed ? surplus : [];
  if (chunk.holders.length === 0) {
    if (!everyExpectedListed) return { kind: 'unknown' };
    const stripes = chunk.reference.stripes ?? [];
    return stripes.length > 0 ? { kind: 'rebuild', to: expected, stripes } : { kind: 'lost' };
  }
  if (missing.length > 0) {
    // Copy from replicas the ring still names first: they are the ones reads already prefer.
    const sources = [...chunk.holders].sort((a, b) => Number(!expected.includes(a)) - Number(!expected.includes(b)));
    return { kind: 'copy', reason: surplus.length > 0 ? 'rebalance' : 'repair', to: missing, sources, trim, expected };
  }
  if (trim.length > 0) return { kind: 'trim', from: trim, expected };
  return { kind: 'healthy' };
}

/**
 * The nodes that should hold a chunk: the ring's first `replicationFactor` replicas of its hash when
 * it is named as a whole chunk, and, for each stripe it is a shard of, the stripe's `index`-th node
 * (the ring's k+m replicas of the stripe's hash, in order; a ring smaller than the stripe wraps).
 */
export function expectedHolders(ring: HashRing, hash: ContentHash, reference: { readonly replicationFactor: number; readonly stripes?: readonly ShardPlacement[] }): string[] {
  const replicationFactor = Math.min(reference.replicationFactor, ring.members.length);
  const expected = new Set(replicationFactor > 0 ? ring.replicasFor(hash, replicationFactor).map((m) => m.nodeId) : []);
  for (const { stripe, index, layout } of reference.stripes ?? []) {
    const width = layout.dataShards + layout.parityShards;
    const placement = ring.replicasFor(stripe as ContentHash, Math.min(width, ring.members.length));
    if (placement.length > 0) expected.add(placement[index % placement.length].nodeId);
  }
  return [...expected];
}

/**
 * Garbage collection's two-look rule: a chunk is deleted only when it was unreferenced at a look
 * at least `graceMs` before this one and is still unreferenced now. A copy of an object being
 * committed while its source is deleted, or a PUT of the same bytes, is shorter than the grace,
 * so its reference shows up in one of the two looks. The storage node's touch check (no write
 * since `lookStartedAtMs - graceMs`) covers a PUT of the same content that lands in between.
 */
export function gcDecision(firstSeenUnreferencedAtMs: number | undefined, lookStartedAtMs: number, graceMs: number): { readonly collect: boolean; readonly firstSeenUnreferencedAtMs: number } {
  const firstSeen = firstSeenUnreferencedAtMs ?? lookStartedAtMs;
  return { collect: lookStartedAtMs - firstSeen >= graceMs, firstSeenUnreferencedAtMs: firstSeen };
}
