import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JetStreamContext } from '@cairn/messaging';
import { ChangeFeeder } from './change-feeder';

/** The durable consumer on META that feeds the change feed; instances of sync share it. */
export const CHANGE_FEED_DURABLE = 'sync-change-feed';
/**
 * Deliveries before an event is parked on the dead-letter stream. A record skipped is a record a
 * user never sees, so the feed keeps retrying (15 s apart after the first few) for about two
 * days — a CHANGES stream that refuses writes, or a META event newer than this sync knows,
 * holds the feed instead of thinning it.
 */
export const CHANGE_FEED_MAX_DELIVERIES = 10_000;
/**
 * How long an event may go unacked before JetStream hands it out again. Feeding one is a single
 * publish, and with one event in flight a crashed feeder's last event holds the feed this long,
 * so it is short; a slow publish that outlasts it only makes a redelivery, which is skipped.
 */
export const CHANGE_FEED_ACK_WAIT_MS = 5_000;

/**
 * Every object-key event of META, in stream order (one unacked at a time), handed to the feeder;
 * the transport acks it when the feeder returns (after the record's publish was acknowledged) and
 * redelivers it with backoff when the feeder throws.
 */
@Controller()
export class ChangeFeedConsumer {
  constructor(private readonly feeder: ChangeFeeder) {}

  @EventPattern('meta.object.>', { stream: 'META', durable: CHANGE_FEED_DURABLE, maxAckPending: 1, maxDeliveries: CHANGE_FEED_MAX_DELIVERIES, ackWaitMs: CHANGE_FEED_ACK_WAIT_MS })
  async onObjectEvent(@Payload() payload: unknown, @Ctx() ctx: JetStreamContext): Promise<void> {
    await this.feeder.feed(payload, ctx.streamSequence);
  }
}
