import { DeliverPolicy, type ConsumerMessages } from 'nats';
import type { NatsConnectionManager } from './nats-connection';

/** What a tail reports of each new message: where it was appended (and, with `withData`, what it says). */
export interface TailedMessage {
  readonly subject: string;
  readonly sequence: number;
  /** The payload, only when the tail was asked for it. */
  readonly data?: Uint8Array;
}

export interface StreamTailOptions {
  /** The stream's full name (subjectsFor(ns).streamName(kind)). */
  readonly stream: string;
  /** The subject to follow, wildcards allowed (one: nats-server 2.9 filters a consumer by one subject). */
  readonly subject: string;
  readonly onMessage: (message: TailedMessage) => void;
  /** A failure to (re)subscribe; the tail keeps trying. */
  readonly onError?: (error: unknown) => void;
  /** Wait between attempts to (re)subscribe. */
  readonly retryMs?: number;
  /** `new` (default): messages appended from now on; `last-per-subject`: first the last message of each matching subject. */
  readonly from?: 'new' | 'last-per-subject';
  /** Deliver payloads too (by default headers only: a tail tells what changed, not how). */
  readonly withData?: boolean;
}

const DEFAULT_RETRY_MS = 1_000;

/**
 * Follows a JetStream stream, headers only unless asked, with an ordered consumer (no state on
 * the server; after a failure it resubscribes after the last message it delivered). For caches
 * that must hear of changes within moments: it tells which subject changed and at which stream
 * sequence, so a reader can then wait for its projection to reach that sequence; and for views
 * kept from the latest event of each subject (`from: 'last-per-subject'`, `withData`).
 */
export class StreamTail {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly connection: NatsConnectionManager,
    private readonly options: StreamTailOptions,
  ) {}

  start(): void {
    this.running ??= this.follow();
  }

  /** Ends the subscription; a tail still waiting for NATS gives up when the connection closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
  }

  private async follow(): Promise<void> {
    const retryMs = this.options.retryMs ?? DEFAULT_RETRY_MS;
    const withData = this.options.withData === true;
    let lastSequence = 0;
    while (!this.stopped) {
      try {
        const js = await this.connection.jetstream();
        const start =
          lastSequence > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSequence + 1 }
            : { deliver_policy: this.options.from === 'last-per-subject' ? DeliverPolicy.LastPerSubject : DeliverPolicy.New };
        const consumer = await js.consumers.get(this.options.stream, { filterSubjects: this.options.subject, ...start, headers_only: !withData });
        if (this.stopped) return;
        this.messages = await consumer.consume();
        if (this.stopped) {
          await this.messages.close();
          return;
        }
        for await (const m of this.messages) {
          lastSequence = m.seq;
          this.options.onMessage(withData ? { subject: m.subject, sequence: m.seq, data: m.data } : { subject: m.subject, sequence: m.seq });
        }
      } catch (error) {
        if (!this.stopped) this.options.onError?.(error);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
