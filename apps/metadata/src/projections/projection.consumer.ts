import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext } from '@cairn/messaging';
import { isEventEnvelope, type EventEnvelope } from '@cairn/protocol';
import { ProjectionTracker } from './projection-tracker';
import { CLUSTER_PROJECTOR_DURABLE } from './projection-streams';

/**
 * The durable JetStream consumer of membership (CLUSTER, `cluster.membership` only), in stream order
 * (maxAckPending 1: instances share the durable, one event in flight at a time). An event is acked
 * only after its rows and checkpoint committed; a redelivered one is skipped by the checkpoint.
 * Membership changes are rare; META, where every put lands, has the batching MetaProjectionWorker.
 */
@Controller()
export class ProjectionConsumer {
  constructor(private readonly tracker: ProjectionTracker) {}

  @EventPattern('cluster.membership', { stream: 'CLUSTER', durable: CLUSTER_PROJECTOR_DURABLE, maxAckPending: 1 })
  async onMembershipEvent(@Payload() envelope: EventEnvelope, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.tracker.project('CLUSTER', requireEnvelope(envelope, ctx), ctx.streamSequence);
  }
}

function requireEnvelope(payload: unknown, ctx: JetStreamContext): EventEnvelope {
  if (!isEventEnvelope(payload)) throw new Error(`${ctx.subject} #${ctx.streamSequence} is not an event envelope`);
  return payload;
}
