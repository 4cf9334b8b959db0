import { subjectsFor, type ChunkUnderReplicated, type EventEnvelope } from '@cairn/protocol';
import type { UnderReplicatedChunk, UnderReplicationRecorder } from './under-replication-recorder.port';

/** What the recorder needs to append: the event store's unguarded publish and an envelope maker. */
export interface ChunkEventSink {
  publish(subject: string, envelope: EventEnvelope): Promise<number>;
}

export type EnvelopeMaker = (event: ChunkUnderReplicated, aggregateId: string) => EventEnvelope;

/**
 * Records each replica a write missed as a `ChunkUnderReplicated` event on CLUSTER
 * (`cluster.chunk.<hash>`), where the repair job picks it up. The write has already reached its
 * quorum, so a failure to record is reported to the caller, which decides whether to fail.
 */
export class JetStreamUnderReplicationRecorder implements UnderReplicationRecorder {
  private readonly subjects;

  constructor(
    private readonly sink: ChunkEventSink,
    namespace: string,
    private readonly makeEnvelope: EnvelopeMaker,
  ) {
    this.subjects = subjectsFor(namespace);
  }

  async record(entry: UnderReplicatedChunk): Promise<void> {
    const event: ChunkUnderReplicated = {
      type: 'ChunkUnderReplicated',
      data: {
        hash: entry.hash,
        sizeBytes: entry.sizeBytes,
        nodeId: entry.nodeId,
        reason: entry.reason,
        ringEpoch: entry.ringEpoch,
        detectedAtMs: entry.detectedAtMs,
      },
    };
    await this.sink.publish(this.subjects.chunkHealth(entry.hash), this.makeEnvelope(event, entry.hash));
  }
}
