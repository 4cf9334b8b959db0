import { CairnError, ErrorCodes, MESSAGE_AUTH_HEADER, subjectsFor, type ErrorReply, type Reply } from '@cairn/protocol';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import { headers as natsHeaders, JSONCodec } from 'nats';
import { DEFAULT_RPC_TIMEOUT_MS } from './messaging.config';
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
 * CairnError too (NO_HANDLER, TIMEOUT), never a hang.
 */
export class RpcClient {
  private readonly subjects;

  constructor(
    private readonly connection: NatsConnectionManager,
    namespace: string,
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
    if (this.authenticator) h.set(MESSAGE_AUTH_HEADER, this.authenticator.sign(subject, data));
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
      const m = await nc.request(subject, data, { timeout, headers: h });
      reply = rpcCodec.decode(m.data) as Reply<T>;
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
}
