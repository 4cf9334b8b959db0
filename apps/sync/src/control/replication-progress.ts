import type { NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import { applyConsumerName, inboundStreamName, jetStreamManager } from '../replication/peer-changes';

/** NATS stamps each sourced message with `<stream> <origin sequence> …`: the origin's own sequence. */
const STREAM_SOURCE_HEADER = 'Nats-Stream-Source';

/**
 * How far this region has applied `source`'s changes: the source's own META sequence up to which
 * every message of its stream has been applied (or found not to concern this region) here — the
 * ack floor of this region's apply consumer, told in the source's numbering so regions compare.
 */
export async function appliedThrough(nats: NatsConnectionManager, namespace: string, source: string): Promise<number> {
  const jsm = await jetStreamManager(nats);
  const stream = inboundStreamName(namespace, source);
  const consumer = await jsm.consumers.info(stream, applyConsumerName(namespace)).catch(() => null);
  const floor = consumer?.ack_floor.stream_seq ?? 0;
  if (floor === 0) return 0;
  const message = await jsm.streams.getMessage(stream, { seq: floor }).catch(() => null);
  const origin = Number(message?.header?.get(STREAM_SOURCE_HEADER)?.split(' ')[1]);
  return Number.isInteger(origin) && origin > 0 ? origin : floor;
}

/** The last sequence of this region's own META stream: what a region taking over must have applied. */
export async function ownLastSequence(nats: NatsConnectionManager, namespace: string): Promise<number> {
  const jsm = await jetStreamManager(nats);
  const info = await jsm.streams.info(subjectsFor(namespace).streamName('META'));
  return info.state.last_seq;
}
