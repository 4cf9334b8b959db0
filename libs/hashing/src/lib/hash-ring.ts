import { createHash } from 'node:crypto';
import type { ContentHash } from './content-hash';

/**
 * A consistent-hash ring with virtual nodes (docs/architecture.md §3, Placement). The ring is a pure
 * function of a membership list at an epoch: every process that builds it from the same list
 * computes the same placement. Positions are 32-bit; a chunk's position is the first 32 bits of
 * its SHA-256, and it belongs to the first token at or after that position (wrapping round).
 */
export interface RingMember {
  readonly nodeId: string;
  readonly zone: string;
  readonly host: string;
  /** Relative capacity: a node of weight 2 gets twice the virtual nodes of a node of weight 1. */
  readonly weight: number;
}

export interface RingMembership {
  readonly epoch: number;
  readonly members: readonly RingMember[];
}

/** Enough virtual nodes that a weight-1 node's share is within a few percent of its due. */
export const RING_VNODES_PER_WEIGHT_UNIT = 2048;
export const RING_MAX_MEMBERS = 4096;
export const RING_MAX_WEIGHT = 64;
export const RING_MAX_REPLICAS = 16;
export const RING_POSITION_SPACE = 2 ** 32;
const TOKENS_PER_DIGEST = 8;
const MEMBER_INDEX_SPACE = 2 ** 16;

export function positionOfHash(hash: ContentHash): number {
  return parseInt(hash.slice(0, 8), 16);
}

export class HashRing {
  /** Token positions, ascending. */
  readonly tokens: Uint32Array;
  /** For each token, the index in `members` of the node that owns it. */
  private readonly tokenOwners: Uint16Array;
  /** Members sorted by nodeId: the canonical order, independent of the order given. */
  readonly members: readonly RingMember[];
  readonly epoch: number;
  private readonly zoneCount: number;
  private readonly hostCount: number;
  private readonly replicaCache = new Map<number, readonly RingMember[]>();

  private constructor(membership: RingMembership) {
    const members = validateMembership(membership);
    this.epoch = membership.epoch;
    this.members = members;
    this.zoneCount = new Set(members.map((m) => m.zone)).size;
    this.hostCount = new Set(members.map(hostKey)).size;

    const counts = members.map(vnodeCountOf);
    const total = counts.reduce((a, b) => a + b, 0);
    // Packed as position * 2^16 + memberIndex (< 2^48, exact in a double): one numeric sort
    // orders by position and breaks the rare tie by nodeId order, deterministically.
    const packed = new Float64Array(total);
    let k = 0;
    members.forEach((m, memberIndex) => {
      for (let block = 0; block * TOKENS_PER_DIGEST < counts[memberIndex]; block++) {
        const digest = createHash('sha256').update(`${m.nodeId}\u0000${block}`).digest();
        for (let j = 0; j < TOKENS_PER_DIGEST && block * TOKENS_PER_DIGEST + j < counts[memberIndex]; j++) {
          packed[k++] = digest.readUInt32BE(j * 4) * MEMBER_INDEX_SPACE + memberIndex;
        }
      }
    });
    packed.sort();
    this.tokens = new Uint32Array(total);
    this.tokenOwners = new Uint16Array(total);
    for (let i = 0; i < total; i++) {
      this.tokenOwners[i] = packed[i] % MEMBER_INDEX_SPACE;
      this.tokens[i] = (packed[i] - this.tokenOwners[i]) / MEMBER_INDEX_SPACE;
    }
  }

  static build(membership: RingMembership): HashRing {
    return new HashRing(membership);
  }

  /** Index of the token that owns `position`: the first at or after it, wrapping to 0. */
  tokenIndexAt(position: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tokens[mid] < position) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.tokens.length ? 0 : lo;
  }

  ownerAtPosition(position: number): RingMember {
    return this.members[this.tokenOwners[this.tokenIndexAt(position)]];
  }

  ownerOf(hash: ContentHash): RingMember {
    return this.ownerAtPosition(positionOfHash(hash));
  }

  replicasFor(hash: ContentHash, replicationFactor: number): readonly RingMember[] {
    return this.replicasAtPosition(positionOfHash(hash), replicationFactor);
  }

  replicasAtPosition(position: number, replicationFactor: number): readonly RingMember[] {
    return this.replicasAtToken(this.tokenIndexAt(position), replicationFactor);
  }

  /**
   * rf distinct nodes, walking clockwise from the token: first one node per unused zone, then
   * one per unused host, then any. The first is the primary.
   */
  replicasAtToken(tokenIndex: number, replicationFactor: number): readonly RingMember[] {
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > RING_MAX_REPLICAS) {
      throw new RangeError(`replication factor ${replicationFactor} must be an integer in 1..${RING_MAX_REPLICAS}`);
    }
    if (replicationFactor > this.members.length) {
      throw new RangeError(`replication factor ${replicationFactor} exceeds the ${this.members.length} members at epoch ${this.epoch}`);
    }
    const cacheKey = tokenIndex * (RING_MAX_REPLICAS + 1) + replicationFactor;
    const cached = this.replicaCache.get(cacheKey);
    if (cached) return cached;

    const seen = new Set<number>();
    const order: RingMember[] = [];
    const zonesSeen = new Set<string>();
    const hostsSeen = new Set<string>();
    let selection: RingMember[] = [];
    for (let step = 0; step < this.tokens.length; step++) {
      const owner = this.tokenOwners[(tokenIndex + step) % this.tokens.length];
      if (seen.has(owner)) continue;
      seen.add(owner);
      const m = this.members[owner];
      order.push(m);
      zonesSeen.add(m.zone);
      hostsSeen.add(hostKey(m));
      const pick = selectSpread(order, replicationFactor);
      selection = pick.selected;
      // The selection from this prefix is final once no later node could change a tier's picks.
      if (pick.byZone >= replicationFactor) break;
      if (zonesSeen.size === this.zoneCount && pick.byZone + pick.byHost >= replicationFactor) break;
      if (zonesSeen.size === this.zoneCount && hostsSeen.size === this.hostCount && selection.length >= replicationFactor) break;
      if (order.length === this.members.length) break;
    }
    assertSpread(selection, replicationFactor, this.zoneCount);
    this.replicaCache.set(cacheKey, selection);
    return selection;
  }
}

function selectSpread(order: readonly RingMember[], rf: number): { selected: RingMember[]; byZone: number; byHost: number } {
  const selected: RingMember[] = [];
  const taken = new Set<RingMember>();
  const zones = new Set<string>();
  const hosts = new Set<string>();
  const take = (m: RingMember) => {
    selected.push(m);
    taken.add(m);
    zones.add(m.zone);
    hosts.add(hostKey(m));
  };
  for (const m of order) if (selected.length < rf && !zones.has(m.zone)) take(m);
  const byZone = selected.length;
  for (const m of order) if (selected.length < rf && !taken.has(m) && !hosts.has(hostKey(m))) take(m);
  const byHost = selected.length - byZone;
  for (const m of order) if (selected.length < rf && !taken.has(m)) take(m);
  return { selected, byZone, byHost };
}

function assertSpread(selection: readonly RingMember[], rf: number, zoneCount: number): void {
  if (selection.length !== rf) throw new Error(`ring invariant broken: ${selection.length} replicas selected for rf ${rf}`);
  if (new Set(selection.map((m) => m.nodeId)).size !== rf) throw new Error('ring invariant broken: two replicas on one node');
  const zones = new Set(selection.map((m) => m.zone)).size;
  if (zones < Math.min(rf, zoneCount)) throw new Error(`ring invariant broken: ${zones} zones used where ${Math.min(rf, zoneCount)} were available`);
}

function hostKey(m: RingMember): string {
  return `${m.zone}\u0000${m.host}`;
}

function vnodeCountOf(m: RingMember): number {
  return Math.max(1, Math.round(m.weight * RING_VNODES_PER_WEIGHT_UNIT));
}

function validateMembership(membership: RingMembership): RingMember[] {
  if (!Number.isSafeInteger(membership.epoch) || membership.epoch < 0) throw new RangeError(`epoch ${membership.epoch} must be a non-negative integer`);
  const { members } = membership;
  if (members.length === 0) throw new RangeError('a ring needs at least one member');
  if (members.length > RING_MAX_MEMBERS) throw new RangeError(`${members.length} members exceed the limit of ${RING_MAX_MEMBERS}`);
  const ids = new Set<string>();
  for (const m of members) {
    if (!m.nodeId) throw new RangeError('a member needs a nodeId');
    if (ids.has(m.nodeId)) throw new RangeError(`member ${m.nodeId} appears twice`);
    ids.add(m.nodeId);
    if (!(m.weight > 0 && m.weight <= RING_MAX_WEIGHT)) throw new RangeError(`member ${m.nodeId} weight ${m.weight} must be in (0, ${RING_MAX_WEIGHT}]`);
  }
  return [...members]
    .map((m) => ({ nodeId: m.nodeId, zone: m.zone, host: m.host, weight: m.weight }))
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}
