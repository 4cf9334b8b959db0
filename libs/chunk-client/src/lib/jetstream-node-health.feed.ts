import { decodeEvent, type NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type InstanceHealthEvent } from '@cairn/protocol';
import { DeliverPolicy, type ConsumerMessages } from 'nats';
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
 * each new one, with an ordered consumer (no state on the server; resumes after a reconnect).
 */
export class JetStreamNodeHealthFeed {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly connection: NatsConnectionManager,
    private readonly view: NodeHealthView,
    private readonly options: NodeHealthFeedOptions,
  ) {}

  start(): void {
    this.running ??= this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
  }

  private async follow(): Promise<void> {
    const subjects = subjectsFor(this.options.namespace);
    const filter = subjects.instanceHealth(this.options.region, STORAGE_NODE_SERVICE, '*');
    let lastSequence = 0;
    while (!this.stopped) {
      try {
        const js = await this.connection.jetstream();
        // After a failure, go on from the last event applied rather than from each subject's last.
        const start = lastSequence > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSequence + 1 } : { deliver_policy: DeliverPolicy.LastPerSubject };
        const consumer = await js.consumers.get(subjects.streamName('CLUSTER'), { filterSubjects: filter, ...start });
        if (this.stopped) return;
        this.messages = await consumer.consume();
        if (this.stopped) {
          await this.messages.close();
          return;
        }
        for await (const m of this.messages) {
          lastSequence = m.seq;
          try {
            const envelope = decodeEvent(m.data, `${m.subject} #${m.seq}`);
            if (!HEALTH_EVENT_TYPES.includes(envelope.type)) continue;
            this.view.apply({ type: envelope.type, data: envelope.data } as InstanceHealthEvent, m.seq);
          } catch (error) {
            this.options.onError?.(error);
          }
        }
      } catch (error) {
        if (!this.stopped) this.options.onError?.(error);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, NODE_HEALTH_FEED_RETRY_MS));
    }
  }
}
