import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { isContentHash } from '@cairn/hashing';
import { JetStreamContext, JetStreamEventStore } from '@cairn/messaging';
import { currentEnvelope, isEventEnvelope, type ChunkHealthEvent, type InstanceHealthEvent } from '@cairn/protocol';
import { describeError, STORAGE_NODE_SERVICE } from '@cairn/chunk-client';
import { SweepQueue } from '../sweep/sweep.queue';
import { ChunkRepairQueue } from './chunk-repair.queue';

export const CHUNK_HEALTH_DURABLE = 'scheduler-chunk-health';
export const INSTANCE_HEALTH_DURABLE = 'scheduler-instance-health';

/**
 * Turns chunk health facts on CLUSTER into repair jobs: a replica a write missed, a corrupt chunk
 * a node quarantined (on a read or a scrub), a replica a read fell over from. The event is acked
 * once its job is queued in Redis.
 */
@Controller()
export class ChunkHealthConsumer {
  private readonly logger = new Logger('ChunkHealthConsumer');

  constructor(
    private readonly repairs: ChunkRepairQueue,
    private readonly sweep: SweepQueue,
    private readonly events: JetStreamEventStore,
  ) {}

  /**
   * A storage node monitoring declared down has its chunks re-replicated elsewhere once it has
   * been silent for CAIRN_REREPLICATE_AFTER_MS (a delayed sweep that places chunks without it); one
   * that comes back before then has that cancelled and gets what it missed at once, not at the
   * next interval.
   */
  @EventPattern('cluster.health.>', { stream: 'CLUSTER', durable: INSTANCE_HEALTH_DURABLE })
  async onInstanceHealth(@Payload() envelope: unknown, @Ctx() ctx: JetStreamContext): Promise<void> {
    if (!isEventEnvelope(envelope)) return;
    const current = currentEnvelope(envelope, `${ctx.subject} #${ctx.streamSequence}`);
    const event = { type: current.type, data: current.data } as InstanceHealthEvent;
    if (event.data.service !== STORAGE_NODE_SERVICE) return;
    const nodeId = event.data.instance;
    if (event.type === 'NodeDown') {
      // A NodeDown another verdict has followed since (old history delivered late) asks for nothing.
      if ((await this.events.lastSequence(ctx.subject)) > ctx.streamSequence) return;
      const heardMs = event.data.lastHeartbeatAt ? Date.parse(event.data.lastHeartbeatAt) : NaN;
      const { delayMs } = await this.sweep.scheduleRereplication(nodeId, Number.isFinite(heardMs) ? heardMs : Date.now(), ctx.streamSequence);
      this.logger.log(`${nodeId} is down: its chunks are re-replicated in ${Math.round(delayMs / 1000)} s unless it is back by then`);
      return;
    }
    if (event.type !== 'NodeRecovered') return;
    const cancelled = await this.sweep.cancelRereplication(nodeId).catch((error) => {
      this.logger.warn(`could not cancel the re-replication of ${nodeId}: ${describeError(error)}`);
      return 0;
    });
    if (cancelled > 0) this.logger.log(`${nodeId} is back: its re-replication is cancelled`);
    await this.sweep.requestSweep(`${nodeId} recovered`).catch((error) => this.logger.warn(`could not queue a sweep: ${describeError(error)}`));
  }

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
