import { DeliverPolicy, type ConsumerMessages } from 'nats';
import type { NatsConnectionManager } from './nats-connection';

/** What a tail reports of each new message: where it was appended, not what it says. */
export interface TailedMessage {
  readonly subject: string;
  readonly sequence: number;
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
}

const DEFAULT_RETRY_MS = 1_000;

/**
 * Follows a JetStream stream from now on, headers only, with an ordered consumer (no state on the
 * server, resumes where it stopped after a reconnect). For caches that must hear of changes within
 * moments: it tells which subject changed and at which stream sequence, so a reader can then wait
 * for its projection to reach that sequence.
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
    while (!this.stopped) {
      try {
        const js = await this.connection.jetstream();
        const consumer = await js.consumers.get(this.options.stream, {
          filterSubjects: this.options.subject,
          deliver_policy: DeliverPolicy.New,
          headers_only: true,
        });
        if (this.stopped) return;
        this.messages = await consumer.consume();
        if (this.stopped) {
          await this.messages.close();
          return;
        }
        for await (const m of this.messages) this.options.onMessage({ subject: m.subject, sequence: m.seq });
      } catch (error) {
        if (!this.stopped) this.options.onError?.(error);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
