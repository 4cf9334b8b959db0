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

export type ChunkHealthEvent = ChunkUnderReplicated | ChunkCorruptionFound;

export const ChunkHealthSchemaVersions: Readonly<Record<ChunkHealthEvent['type'], number>> = {
  ChunkUnderReplicated: 1,
  ChunkCorruptionFound: 1,
};
