import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { normaliseDispatchHeaders } from '@cairn/service-kit';

export const CHUNK_CLIENT_TRACER_NAME = '@cairn/chunk-client';

/**
 * An undici interceptor that gives each request to a storage node a client span, under the
 * active traced request only, and sends its context as W3C `traceparent` (docs/observability.md).
 * The node's service-kit middleware continues the trace. Requests are signed over `x-cairn-*`
 * headers only, so the added header changes no signature. With tracing off the active context is
 * the root one and requests pass untouched.
 */
export function traceStorageRequests(nodeId: string, origin: string): Dispatcher.DispatcherComposeInterceptor {
  const server = new URL(origin);
  const serverPort = Number(server.port || (server.protocol === 'https:' ? 443 : 80));
  return (dispatch) => (options, handler) => {
    const active = context.active();
    if (!trace.getSpan(active)) return dispatch(options, handler);
    const path = options.path.split('?')[0];
    const span = trace.getTracer(CHUNK_CLIENT_TRACER_NAME).startSpan(
      `${options.method} ${path.startsWith('/chunks/') ? '/chunks/:hash' : path}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': options.method,
          'url.path': path,
          'server.address': server.hostname,
          'server.port': serverPort,
          'cairn.storage.node': nodeId,
        },
      },
      active,
    );
    const headers: Record<string, string> = { ...normaliseDispatchHeaders(options.headers) };
    propagation.inject(trace.setSpan(active, span), headers);
    return dispatch({ ...options, headers }, new SpanEndingHandler(handler, span));
  };
}

/** Passes every callback on to the request's own handler, ending the span once the response is complete or the request failed. */
class SpanEndingHandler implements Dispatcher.DispatchHandlers {
  private ended = false;

  constructor(
    private readonly handler: Dispatcher.DispatchHandlers,
    private readonly span: Span,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.handler.onConnect?.(abort);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.handler.onUpgrade?.(statusCode, headers, socket);
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR });
    return this.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData?.(chunk) ?? true;
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.handler.onBodySent?.(chunkSize, totalBytesSent);
  }

  onComplete(trailers: string[] | null): void {
    this.finish();
    this.handler.onComplete?.(trailers);
  }

  onError(error: Error): void {
    this.finish(error);
    this.handler.onError?.(error);
  }

  private finish(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error) this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    this.span.end();
  }
}

