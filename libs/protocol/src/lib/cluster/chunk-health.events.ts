import type { DomainEvent } from '../envelope';

/**
 * Facts about chunk replicas, appended to CLUSTER on `cluster.chunk.<hash>` for the repair job.
 * They are observations, not decisions: published without a concurrency guard.
 */
export type ChunkUnderReplicated = DomainEvent<
  'ChunkUnderReplicated',
  {
    readonly hash: string;
    readonly sizeBytes: number;
    /** The replica the ring named that did not take the write. */
    readonly nodeId: string;
    readonly reason: string;
    readonly ringEpoch: number;
    readonly detectedAtMs: number;
  }
>;

export type ChunkCorruptionFound = DomainEvent<
  'ChunkCorruptionFound',
  {
    readonly hash: string;
    readonly nodeId: string;
    /** Where the node moved the bad copy, for forensics. */
    readonly movedTo: string;
    readonly detail: string;
    /** A read served to a client, or the node's own scrub (POST /chunks/verify). Absent from older nodes: a read. */
    readonly foundAt?: 'read' | 'scrub';
  }
>;

/** The scheduler copied a verified chunk to replicas that lacked it (repair or rebalance). */
export type ChunkRepaired = DomainEvent<
  'ChunkRepaired',
  {
    readonly hash: string;
    readonly sizeBytes: number;
    /** The node the verified bytes were read from. */
    readonly sourceNodeId: string;
    readonly copiedTo: readonly string[];
    readonly reason: 'repair' | 'rebalance';
    readonly ringEpoch: number;
  }
>;

export type ChunkHealthEvent = ChunkUnderReplicated | ChunkCorruptionFound | ChunkRepaired;

export const ChunkHealthSchemaVersions: Readonly<Record<ChunkHealthEvent['type'], number>> = {
  ChunkUnderReplicated: 1,
  ChunkCorruptionFound: 1,
  ChunkRepaired: 1,
};
