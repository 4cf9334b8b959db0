import type { ContentHash, HashRing, RingMember } from '@cairn/hashing';
import { replicationFactorOf } from '@cairn/protocol';

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

/** A write is acknowledged once a majority of a STANDARD chunk's copies hold it: 2 of 3, 1 of 1, 3 of 5. */
export function majorityOf(replicationFactor: number): number {
  return Math.floor(replicationFactor / 2) + 1;
}

/**
 * The replication rules of a region's replicated classes, from its one replication factor
 * (CAIRN_REPLICATION_FACTOR, docs/storage-classes.md): STANDARD keeps that many copies and waits for
 * a majority; REDUCED_REDUNDANCY keeps min(2, it) and waits for them all (the class already gave
 * up a copy). Every service that writes, reads or repairs whole chunks takes its strategies here.
 */
export interface RegionReplication {
  readonly replicationFactor: number;
  readonly standard: ReplicationStrategy;
  readonly reducedRedundancy: ReplicationStrategy;
  /** The strategy a replicated chunk of the class is written and repaired with (STANDARD's for any class but REDUCED_REDUNDANCY). */
  forClass(storageClass: string): ReplicationStrategy;
}

export function regionReplication(replicationFactor: number): RegionReplication {
  const standardCopies = replicationFactorOf('STANDARD', replicationFactor);
  const reducedCopies = replicationFactorOf('REDUCED_REDUNDANCY', replicationFactor);
  const standard = ringReplication('STANDARD', standardCopies, majorityOf(standardCopies));
  const reducedRedundancy = ringReplication('REDUCED_REDUNDANCY', reducedCopies, reducedCopies);
  return {
    replicationFactor,
    standard,
    reducedRedundancy,
    forClass: (storageClass) => (storageClass === 'REDUCED_REDUNDANCY' ? reducedRedundancy : standard),
  };
}
