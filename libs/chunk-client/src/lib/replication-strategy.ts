import type { ContentHash, HashRing, RingMember } from '@cairn/hashing';

/**
 * Replication rules as data (garage `replication/parameters.rs`): the client is parameterised by
 * one of these, never by numbers of its own.
 */
export interface ReplicationStrategy {
  readonly name: string;
  readonly replicationFactor: number;
  readonly writeQuorum: number;
  /** The nodes a chunk is written to. */
  writeSet(ring: HashRing, hash: ContentHash): readonly RingMember[];
  /** The nodes a chunk may be read from. */
  readNodes(ring: HashRing, hash: ContentHash): readonly RingMember[];
}

export function ringReplication(name: string, replicationFactor: number, writeQuorum: number): ReplicationStrategy {
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) throw new RangeError(`replication factor ${replicationFactor} must be a positive integer`);
  if (!Number.isInteger(writeQuorum) || writeQuorum < 1 || writeQuorum > replicationFactor) {
    throw new RangeError(`write quorum ${writeQuorum} must be in 1..${replicationFactor}`);
  }
  return {
    name,
    replicationFactor,
    writeQuorum,
    writeSet: (ring, hash) => ring.replicasFor(hash, replicationFactor),
    // A ring that lost members still serves reads from those it has.
    readNodes: (ring, hash) => ring.replicasFor(hash, Math.min(replicationFactor, ring.members.length)),
  };
}

/** docs/architecture.md §3: RF=3, W=2 for the STANDARD class; REDUCED keeps two copies, both required. */
export const STANDARD_REPLICATION = ringReplication('STANDARD', 3, 2);
export const REDUCED_REPLICATION = ringReplication('REDUCED', 2, 2);
