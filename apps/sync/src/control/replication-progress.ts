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

/** This region's copy of `source`'s changes: applied through (in `source`'s numbering), how many wait, and when the oldest waiting one was made. */
export interface InboundProgress {
  readonly appliedThrough: number;
  readonly pending: number;
  /** The oldest change not applied yet, as `source`'s clock stamped it (ms); null when none waits. */
  readonly oldestPendingAtMs: number | null;
}

export async function inboundProgress(nats: NatsConnectionManager, namespace: string, source: string): Promise<InboundProgress> {
  const jsm = await jetStreamManager(nats);
  const stream = inboundStreamName(namespace, source);
  const consumer = await jsm.consumers.info(stream, applyConsumerName(namespace)).catch(() => null);
  if (!consumer) return { appliedThrough: 0, pending: 0, oldestPendingAtMs: null };
  const floor = consumer.ack_floor.stream_seq;
  const pending = consumer.num_pending + consumer.num_ack_pending;
  const [appliedThroughSeq, oldest] = await Promise.all([
    appliedThrough(nats, namespace, source),
    pending > 0 ? jsm.streams.getMessage(stream, { seq: floor + 1 }).catch(() => null) : Promise.resolve(null),
  ]);
  let oldestPendingAtMs: number | null = null;
  if (pending > 0) {
    const occurredAt = oldest ? Date.parse(String((oldest.json() as { occurredAt?: unknown }).occurredAt)) : Number.NaN;
    // Unreadable: count it as made when it reached this region, which understates its age the least we can tell.
    oldestPendingAtMs = Number.isFinite(occurredAt) ? occurredAt : (oldest?.time.getTime() ?? Date.now());
  }
  return { appliedThrough: appliedThroughSeq, pending, oldestPendingAtMs };
}
