import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { ErrorCodes, MESSAGE_AUTH_HEADER, subjectsFor, type StreamKind } from '@cairn/protocol';
import { context, SpanKind, trace, type Context } from '@opentelemetry/api';
import { JSONCodec, type ConsumerMessages, type JsMsg, type Subscription } from 'nats';
import { lastValueFrom, isObservable, type Observable } from 'rxjs';
import { publishDeadLetter } from './dead-letter';
import { LargeMessageHolder, replyPiecesSubject, REQUEST_PIECE_TIMEOUT_MS, requestBodyOf, requestPiecesPrefix } from './large-replies';
import { REQUEST_ID_HEADER, rpcCodec, toErrorReply } from './rpc';
import type { MessageAuthenticator } from './message-auth';
import type { MessagingConfig } from './messaging.config';
import type { NatsConnectionManager } from './nats-connection';
import { ensureDurableConsumer, ensureStreams } from './stream-provisioning';
import { endSpan, extractTraceHeaders, messagingTracer } from './trace-context';

/** Options an `@EventPattern(subject, options)` handler may carry. */
export interface EventHandlerOptions {
  readonly stream: StreamKind;
  /** Durable consumer name, unique per service; instances of one service share it. */
  readonly durable: string;
  readonly maxDeliveries?: number;
  /** Redelivery delay by attempt number (1-based); the last one repeats. */
  readonly backoffMs?: readonly number[];
  readonly ackWaitMs?: number;
  readonly maxAckPending?: number;
}

export const DEFAULT_MAX_DELIVERIES = 5;
export const DEFAULT_BACKOFF_MS = [100, 500, 2_000, 5_000, 15_000] as const;
export const DEFAULT_ACK_WAIT_MS = 30_000;
const CONSUME_BATCH = 64;

/** What an event handler receives besides the message body. */
export class JetStreamContext {
  constructor(
    readonly subject: string,
    readonly streamSequence: number,
    readonly deliveryCount: number,
    readonly message: JsMsg,
  ) {}
}

export class RpcRequestContext {
  constructor(
    readonly subject: string,
    readonly requestId: string | undefined,
  ) {}
}

const payloadCodec = JSONCodec<unknown>();

export function backoffFor(attempt: number, backoffMs: readonly number[]): number {
  return backoffMs[Math.min(attempt, backoffMs.length) - 1] ?? 0;
}

/**
 * The NestJS transport for Cairn: `@EventPattern` handlers consume durable JetStream consumers
 * (ack on success, nak with backoff on failure, park in the dead-letter stream after the last
 * delivery), `@MessagePattern` handlers answer NATS request/reply on `rpc.<service>.<pattern>`
 * with typed replies. Everything is namespaced by CAIRN_NS.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  protected override readonly logger = new Logger('JetStreamTransport');
  private readonly subjects;
  private readonly consumers: ConsumerMessages[] = [];
  private readonly subscriptions: Subscription[] = [];
  /** Per service answered: replies too large for one NATS message, until fetched (large-replies.ts; large requests are fetched from their callers). */
  private readonly largeReplies = new Map<string, LargeMessageHolder>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private markStarted: () => void = () => undefined;
  private readonly startup = new Promise<void>((resolve) => (this.markStarted = resolve));

  constructor(
    private readonly connection: NatsConnectionManager,
    private readonly config: MessagingConfig,
    /** Checks every RPC request's signature before its handler sees it. */
    private readonly authenticator: MessageAuthenticator,
  ) {
    super();
    this.subjects = subjectsFor(config.namespace);
  }

  on(): void {
    /* connection events are tracked by NatsConnectionManager */
  }

  unwrap<T>(): T {
    return this.connection.current() as T;
  }

  /** Resolves the Nest callback at once: NATS may be away, and the HTTP side must start anyway. */
  listen(callback: (...optionalParams: unknown[]) => void): void {
    void this.start().catch((error) => {
      if (!this.closing) this.logger.error(`transport failed to start: ${String(error)}`);
    });
    callback();
  }

  /** Resolves once every consumer and subscription is running (tests wait for it). */
  get started(): Promise<void> {
    return this.startup;
  }

  private async start(): Promise<void> {
    const jsm = await this.connection.jetstreamManager();
    if (this.closing) return;
    await ensureStreams(jsm, this.config.namespace, this.config.streamReplicas ?? 1);
    for (const [pattern, handler] of this.messageHandlers) {
      if (handler.isEventHandler) await this.startConsumer(pattern, handler);
      else await this.startResponder(pattern, handler);
    }
    // Started means the server holds every responder's interest: a caller on another connection
    // must not be told "no responders" by a subscription the server has not yet read.
    if (this.subscriptions.length) await (await this.connection.connection()).flush();
    this.markStarted();
  }

  private async startResponder(pattern: string, handler: MessageHandler): Promise<void> {
    const nc = await this.connection.connection();
    const subject = this.subjects.prefix(`rpc.${pattern}`);
    const service = pattern.slice(0, pattern.indexOf('.'));
    let replies = this.largeReplies.get(service);
    if (!replies) this.largeReplies.set(service, (replies = new LargeMessageHolder(nc, replyPiecesSubject(this.config.namespace, service), this.authenticator)));
    const largeReplies = replies;
    // A request too large for one message is fetched from its caller, who serves it only here.
    const largeRequests = { timeoutMs: REQUEST_PIECE_TIMEOUT_MS, authenticator: this.authenticator, subjectPrefix: requestPiecesPrefix(this.config.namespace, service) };
    const sub = nc.subscribe(subject, {
      queue: subject,
      callback: (err, msg) => {
        if (err) return this.logger.error(`responder ${subject}: ${err.message}`);
        const work = (async () => {
          let reply: unknown;
          const verdict = this.authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
          if (!verdict.ok) {
            this.logger.warn(`refused ${msg.subject}: ${verdict.reason}`);
            if (msg.reply) msg.respond(rpcCodec.encode({ ok: false, error: { code: ErrorCodes.Unauthenticated, message: `request refused: ${verdict.reason}` } }));
            return;
          }
          // A request sent under a traced one is handled under a server span of the same trace.
          const traced = extractTraceHeaders(msg.headers);
          const span = traced
            ? messagingTracer().startSpan(
                pattern.replace('.', '/'),
                { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'nats', 'rpc.method': pattern.slice(pattern.indexOf('.') + 1), 'rpc.service': pattern.slice(0, pattern.indexOf('.')) } },
                traced,
              )
            : undefined;
          let failure: unknown;
          try {
            const data = await requestBodyOf(nc, msg, largeRequests);
            const payload = data.length ? rpcCodec.decode(data) : null;
            const ctx = new RpcRequestContext(msg.subject, msg.headers?.get(REQUEST_ID_HEADER) || undefined);
            const value = await this.underSpan(traced && span ? trace.setSpan(traced, span) : undefined, () => this.resolve(handler(payload, ctx)));
            reply = { ok: true, value: value ?? null };
          } catch (error) {
            failure = error;
            reply = { ok: false, error: toErrorReply(error) };
          }
          if (msg.reply) largeReplies.respond(msg, rpcCodec.encode(reply));
          if (span) endSpan(span, failure);
        })();
        this.track(work);
      },
    });
    this.subscriptions.push(sub);
  }

  private async startConsumer(pattern: string, handler: MessageHandler): Promise<void> {
    const options = handler.extras as EventHandlerOptions | undefined;
    if (!options?.stream || !options.durable) {
      throw new Error(`@EventPattern('${pattern}') needs { stream, durable } options`);
    }
    const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    const jsm = await this.connection.jetstreamManager();
    await ensureDurableConsumer(jsm, this.config.namespace, {
      stream: options.stream,
      durable: options.durable,
      filterSubject: this.subjects.prefix(pattern),
      maxDeliveries,
      ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
      maxAckPending: options.maxAckPending ?? 1,
    });
    const js = await this.connection.jetstream();
    const consumer = await js.consumers.get(this.subjects.streamName(options.stream), this.subjects.durableName(options.durable));
    const messages = await consumer.consume({ max_messages: CONSUME_BATCH });
    this.consumers.push(messages);
    const loop = (async () => {
      for await (const msg of messages) {
        if (this.closing) {
          msg.nak();
          continue;
        }
        await this.deliver(msg, handler, options, maxDeliveries, backoffMs);
      }
    })();
    this.track(loop);
  }

  private async deliver(
    msg: JsMsg,
    handler: MessageHandler,
    options: EventHandlerOptions,
    maxDeliveries: number,
    backoffMs: readonly number[],
  ): Promise<void> {
    const deliveries = msg.info.redeliveryCount;
    // An event appended under a traced request is processed under a consumer span of that trace.
    const traced = extractTraceHeaders(msg.headers);
    const span = traced
      ? messagingTracer().startSpan(
          `process ${options.stream}`,
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              'messaging.system': 'nats',
              'messaging.operation.type': 'process',
              'messaging.destination.name': msg.subject,
              'messaging.consumer.group.name': options.durable,
              'cairn.stream.sequence': msg.seq,
              'cairn.delivery': deliveries,
            },
          },
          traced,
        )
      : undefined;
    try {
      const payload = payloadCodec.decode(msg.data);
      await this.underSpan(traced && span ? trace.setSpan(traced, span) : undefined, () =>
        this.resolve(handler(payload, new JetStreamContext(msg.subject, msg.seq, deliveries, msg))),
      );
      msg.ack();
      span?.end();
    } catch (error) {
      if (span) endSpan(span, error);
      const reason = toErrorReply(error);
      if (deliveries >= maxDeliveries) {
        await this.park(msg, options, reason.code, reason.message, deliveries);
        return;
      }
      this.logger.warn(
        `handler for ${msg.subject} #${msg.seq} failed (delivery ${deliveries}/${maxDeliveries}): ${reason.code} ${reason.message}`,
      );
      msg.nak(backoffFor(deliveries, backoffMs));
    }
  }

  /** Moves a message that exhausted its deliveries to the dead-letter stream, with its error, then terminates it. */
  private async park(msg: JsMsg, options: EventHandlerOptions, code: string, message: string, deliveries: number): Promise<void> {
    await publishDeadLetter(await this.connection.jetstream(), this.config.namespace, options.stream, options.durable, msg, `${code}: ${message}`, deliveries);
    this.logger.error(`parked ${msg.subject} #${msg.seq} after ${deliveries} deliveries: ${code} ${message}`);
    msg.term();
  }

  /** Runs the work with the span's context active (as is when there is none: tracing off, or an untraced message). */
  private underSpan<T>(spanContext: Context | undefined, work: () => Promise<T>): Promise<T> {
    return spanContext ? context.with(spanContext, work) : work();
  }

  private async resolve(result: unknown): Promise<unknown> {
    const awaited = await result;
    return isObservable(awaited) ? await lastValueFrom(awaited as Observable<unknown>, { defaultValue: undefined }) : awaited;
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Stops taking new work, lets in-flight handlers finish, then unsubscribes. */
  async close(): Promise<void> {
    this.closing = true;
    for (const sub of this.subscriptions) sub.drain().catch(() => undefined);
    for (const messages of this.consumers) await messages.close().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    for (const holder of this.largeReplies.values()) holder.close();
  }
}
