import { decodeEvent, StreamTail, type NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type InstanceHealthEvent } from '@cairn/protocol';
import { STORAGE_NODE_SERVICE, type NodeHealthView } from './node-health';

const HEALTH_EVENT_TYPES: readonly string[] = ['NodeSuspected', 'NodeDown', 'NodeRecovered'];
export const NODE_HEALTH_FEED_RETRY_MS = 1_000;

export interface NodeHealthFeedOptions {
  readonly namespace: string;
  readonly region: string;
  /** A failure to (re)subscribe or an unreadable event; the feed keeps going. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Keeps a NodeHealthView up to date from CLUSTER: the last health event of every storage node of
 * the region first (so a node that went down before this process started is known at once), then
 * each new one — a StreamTail from each subject's last event, with payloads.
 */
export class JetStreamNodeHealthFeed {
  private readonly tail: StreamTail;

  constructor(connection: NatsConnectionManager, view: NodeHealthView, options: NodeHealthFeedOptions) {
    const subjects = subjectsFor(options.namespace);
    this.tail = new StreamTail(connection, {
      stream: subjects.streamName('CLUSTER'),
      subject: subjects.instanceHealth(options.region, STORAGE_NODE_SERVICE, '*'),
      from: 'last-per-subject',
      withData: true,
      retryMs: NODE_HEALTH_FEED_RETRY_MS,
      onError: options.onError,
      onMessage: (m) => {
        try {
          const envelope = decodeEvent(m.data!, `${m.subject} #${m.sequence}`);
          if (HEALTH_EVENT_TYPES.includes(envelope.type)) view.apply({ type: envelope.type, data: envelope.data } as InstanceHealthEvent, m.sequence);
        } catch (error) {
          options.onError?.(error);
        }
      },
    });
  }

  start(): void {
    this.tail.start();
  }

  stop(): Promise<void> {
    return this.tail.stop();
  }
}
