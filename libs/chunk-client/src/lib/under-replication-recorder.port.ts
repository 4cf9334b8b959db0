import type { ContentHash } from '@cairn/hashing';

/** A replica that missed a chunk write the quorum accepted: work for the repair job. */
export interface UnderReplicatedChunk {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  readonly nodeId: string;
  readonly reason: string;
  readonly ringEpoch: number;
  readonly detectedAtMs: number;
}

export const UNDER_REPLICATION_RECORDER = Symbol('UNDER_REPLICATION_RECORDER');

export interface UnderReplicationRecorder {
  record(entry: UnderReplicatedChunk): Promise<void>;
}

export class InMemoryUnderReplicationRecorder implements UnderReplicationRecorder {
  readonly entries: UnderReplicatedChunk[] = [];

  async record(entry: UnderReplicatedChunk): Promise<void> {
    this.entries.push(entry);
  }
}
