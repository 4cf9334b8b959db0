import { StreamKinds, subjectsFor, type StreamKind } from '@cairn/protocol';
import { AckPolicy, DeliverPolicy, DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { DUPLICATE_WINDOW_MS } from './messaging.config';

/**
 * The streams of a region, declared in one place. Events are kept forever (they are the source of
 * truth); dead letters too, until an operator deals with them.
 */
export function streamDeclarations(namespace: string, replicas = 1): Record<StreamKind, Partial<StreamConfig>> {
  const s = subjectsFor(namespace);
  const declare = (kind: StreamKind): Partial<StreamConfig> => ({
    name: s.streamName(kind),
    subjects: s.streamSubjects(kind),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    num_replicas: replicas,
    // Last-message look-ups by direct get (JetStreamEventStore): read-after-write with one replica only.
    allow_direct: replicas === 1,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  return Object.fromEntries(StreamKinds.map((kind) => [kind, declare(kind)])) as Record<StreamKind, Partial<StreamConfig>>;
}

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { err_code?: number } };
  return e?.code === '404' || e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014;
}

/** Creates missing streams and brings changed ones in line with their declaration; safe to repeat. */
export async function ensureStreams(jsm: JetStreamManager, namespace: string, replicas = 1): Promise<void> {
  for (const config of Object.values(streamDeclarations(namespace, replicas))) {
    try {
      const info = await jsm.streams.info(config.name!);
      const same = JSON.stringify([...info.config.subjects].sort()) === JSON.stringify([...config.subjects!].sort());
      // Direct gets follow the stream's replicas as they are (an operator may have changed them).
      const allowDirect = info.config.num_replicas === 1;
      if (!same || (info.config.allow_direct ?? false) !== allowDirect) {
        await jsm.streams.update(config.name!, { ...info.config, subjects: config.subjects, allow_direct: allowDirect });
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await jsm.streams.add(config);
      } catch (addError) {
        // Another instance created it in the meantime.
        if (!/already in use|exists/i.test(String(addError))) throw addError;
      }
    }
  }
}

export interface DurableConsumerDeclaration {
  readonly stream: StreamKind;
  readonly durable: string;
  readonly filterSubject: string;
  readonly maxDeliveries: number;
  readonly ackWaitMs: number;
  /** 1 keeps strict stream order (projections); more lets a consumer work on several at once. */
  readonly maxAckPending: number;
}

export async function ensureDurableConsumer(jsm: JetStreamManager, namespace: string, d: DurableConsumerDeclaration): Promise<void> {
  const s = subjectsFor(namespace);
  const stream = s.streamName(d.stream);
  const durable = s.durableName(d.durable);
  const wanted = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: d.filterSubject,
    // The transport parks a message itself after maxDeliveries; the server's own bound is a
    // backstop one higher, so a message is never silently dropped by the server first.
    max_deliver: d.maxDeliveries + 1,
    ack_wait: nanos(d.ackWaitMs),
    max_ack_pending: d.maxAckPending,
  };
  try {
    const info = await jsm.consumers.info(stream, durable);
    const c = info.config;
    if (
      c.filter_subject !== wanted.filter_subject ||
      c.max_deliver !== wanted.max_deliver ||
      c.ack_wait !== wanted.ack_wait ||
      c.max_ack_pending !== wanted.max_ack_pending
    ) {
      await jsm.consumers.update(stream, durable, {
        filter_subject: wanted.filter_subject,
        max_deliver: wanted.max_deliver,
        ack_wait: wanted.ack_wait,
        max_ack_pending: wanted.max_ack_pending,
      });
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, wanted);
  }
}

/** Removes every stream of a namespace: test clean-up only. */
export async function deleteNamespaceStreams(jsm: JetStreamManager, namespace: string): Promise<void> {
  if (!namespace) throw new Error('refusing to delete the streams of the default namespace');
  for (const config of Object.values(streamDeclarations(namespace))) {
    try {
      await jsm.streams.delete(config.name!);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
