import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext } from '@cairn/messaging';
import { currentEnvelope } from '@cairn/protocol';
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
  async onMembershipEvent(@Payload() payload: unknown, @Ctx() ctx: JetStreamContext): Promise<void> {
    // Upcast where it is read from the stream: the projection sees only current shapes.
    await this.tracker.project('CLUSTER', currentEnvelope(payload, `${ctx.subject} #${ctx.streamSequence}`), ctx.streamSequence);
  }
}
