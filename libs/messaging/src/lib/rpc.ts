import { CairnError, ErrorCodes, subjectsFor, type ErrorReply, type Reply } from '@cairn/protocol';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';
import { DEFAULT_RPC_TIMEOUT_MS } from './messaging.config';
import { LargeMessageHolder, requestLarge, requestPiecesSubject } from './large-replies';
import type { MessageAuthenticator } from './message-auth';
import type { NatsConnectionManager } from './nats-connection';
import { endSpan, injectTraceHeaders, messagingTracer, tracedContext } from './trace-context';

export const REQUEST_ID_HEADER = 'Cairn-Request-Id';
export const rpcCodec = JSONCodec<unknown>();

/** Turns anything a handler threw into the typed error reply that crosses the wire. */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof CairnError) return error.toReply();
  const e = error as { code?: unknown; message?: unknown; response?: { message?: unknown } };
  if (typeof e?.code === 'string' && typeof e.message === 'string') return { code: e.code, message: e.message };
  // class-validator failures raised through Nest's ValidationPipe.
  if (e?.response && Array.isArray(e.response.message)) {
    return { code: ErrorCodes.InvalidCommand, message: e.response.message.join('; ') };
  }
  return { code: ErrorCodes.Internal, message: e instanceof Error ? e.message : String(error) };
}

export interface RpcRequestOptions {
  readonly timeoutMs?: number;
  readonly requestId?: string;
}

/**
 * Sends commands and queries to other services over NATS request/reply. The reply is typed: a
 * value, or a CairnError with the remote's stable code. A missing responder or a timeout is a
 * CairnError too (NO_HANDLER, TIMEOUT), never a hang. A request or reply too large for one NATS
 * message is held by its sender and fetched in pieces (large-replies.ts).
 */
export class RpcClient {
  private readonly subjects;
  /** Per service called: this client's requests too large for one message, until the responder has fetched them. */
  private readonly largeRequests = new Map<string, { readonly nc: NatsConnection; readonly holder: LargeMessageHolder }>();

  constructor(
    private readonly connection: NatsConnectionManager,
    private readonly namespace: string,
    /** Signs each request; responders refuse unsigned ones. */
    private readonly authenticator?: MessageAuthenticator,
  ) {
    this.subjects = subjectsFor(namespace);
  }

  async request<T>(service: string, pattern: string, payload: unknown, options: RpcRequestOptions = {}): Promise<T> {
    const nc = await this.connection.connection();
    const timeout = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    const h = natsHeaders();
    if (options.requestId) h.set(REQUEST_ID_HEADER, options.requestId);
    const subject = this.subjects.rpc(service, pattern);
    const data = rpcCodec.encode(payload ?? null);
    // Only under a traced request: a client span, its context in the headers for the responder.
    const traced = tracedContext();
    let span: Span | undefined;
    if (traced) {
      span = messagingTracer().startSpan(
        `${service}/${pattern}`,
        { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'nats', 'rpc.service': service, 'rpc.method': pattern, 'messaging.destination.name': subject } },
        traced,
      );
      injectTraceHeaders(trace.setSpan(traced, span), h);
    }
    let reply: Reply<T>;
    try {
      // Signed as sent (requestLarge): the body, or the descriptor of a request held for the responder to fetch.
      const body = await requestLarge(nc, subject, data, { timeoutMs: timeout, headers: h, authenticator: this.authenticator, holder: () => this.largeRequestHolder(nc, service) });
      reply = rpcCodec.decode(body) as Reply<T>;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const failure =
        code === '503'
          ? new CairnError(ErrorCodes.NoHandler, `no ${service} instance answers ${pattern}`)
          : code === 'TIMEOUT'
            ? new CairnError(ErrorCodes.Timeout, `${service}.${pattern} did not answer within ${timeout} ms`)
            : error;
      if (span) endSpan(span, failure);
      throw failure;
    }
    if (reply.ok) {
      span?.end();
      return reply.value;
    }
    const failure = CairnError.fromReply(reply.error);
    if (span) endSpan(span, failure);
    throw failure;
  }

  /** The holder of this client's large requests to `service` on this connection (a new one if the connection was replaced). */
  private largeRequestHolder(nc: NatsConnection, service: string): LargeMessageHolder {
    const current = this.largeRequests.get(service);
    if (current?.nc === nc) return current.holder;
    current?.holder.close();
    if (!this.authenticator) throw new CairnError(ErrorCodes.Internal, `a request to ${service} is too large for one NATS message, and this client has no credentials to serve its pieces`);
    const holder = new LargeMessageHolder(nc, requestPiecesSubject(this.namespace, service), this.authenticator);
    this.largeRequests.set(service, { nc, holder });
    return holder;
  }
}
