import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { isContentHash } from '@cairn/hashing';
import { JetStreamContext } from '@cairn/messaging';
import { currentEnvelope, isEventEnvelope, type ChunkHealthEvent } from '@cairn/protocol';
import { ChunkRepairQueue } from './chunk-repair.queue';

export const CHUNK_HEALTH_DURABLE = 'scheduler-chunk-health';

/**
 * Turns chunk health facts on CLUSTER into repair jobs: a replica a write missed, a corrupt chunk
 * a node quarantined (on a read or a scrub), a replica a read fell over from. The event is acked
 * once its job is queued in Redis.
 */
@Controller()
export class ChunkHealthConsumer {
  private readonly logger = new Logger('ChunkHealthConsumer');

  constructor(private readonly repairs: ChunkRepairQueue) {}

  @EventPattern('cluster.chunk.>', { stream: 'CLUSTER', durable: CHUNK_HEALTH_DURABLE })
  async onChunkHealth(@Payload() envelope: unknown, @Ctx() ctx: JetStreamContext): Promise<void> {
    if (!isEventEnvelope(envelope)) {
      this.logger.warn(`${ctx.subject} #${ctx.streamSequence} is not an event envelope; skipped`);
      return;
    }
    const current = currentEnvelope(envelope, `${ctx.subject} #${ctx.streamSequence}`);
    const event = { type: current.type, data: current.data } as ChunkHealthEvent;
    const hash = event.data.hash;
    if (!isContentHash(hash)) {
      this.logger.warn(`${ctx.subject} #${ctx.streamSequence} names no chunk hash; skipped`);
      return;
    }
    switch (event.type) {
      case 'ChunkUnderReplicated':
        return this.repairs.enqueue({ hash, nodeId: event.data.nodeId, reason: event.data.reason });
      case 'ChunkCorruptionFound':
        return this.repairs.enqueue({ hash, nodeId: event.data.nodeId, reason: `corrupt: ${event.data.detail}` });
      case 'ChunkRepaired':
        return;
      default:
        // A newer event type this version does not act on.
        return;
    }
  }
}
