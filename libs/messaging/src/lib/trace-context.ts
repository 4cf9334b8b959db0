import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import type { MsgHdrs } from 'nats';

/**
 * Trace context across NATS (docs/observability.md): the W3C `traceparent` (and `tracestate`)
 * travel in the message headers. Nothing here starts a trace: a span is made only under one that
 * is already active (an HTTP request a service-kit middleware traces) or for a message that
 * carries one. With tracing off no context manager is registered, the active context is always
 * the root one, and these helpers return before allocating anything.
 */
export const TRACEPARENT_HEADER = 'traceparent';
export const MESSAGING_TRACER_NAME = '@cairn/messaging';

const natsSetter: TextMapSetter<MsgHdrs> = {
  set: (headers, key, value) => headers.set(key, value),
};

const natsGetter: TextMapGetter<MsgHdrs> = {
  keys: (headers) => headers.keys(),
  get: (headers, key) => headers.get(key) || undefined,
};

export function messagingTracer(): Tracer {
  return trace.getTracer(MESSAGING_TRACER_NAME);
}

/** The active context when a span is active in it (a traced request), else undefined. */
export function tracedContext(): Context | undefined {
  const active = context.active();
  return trace.getSpan(active) ? active : undefined;
}

/** Writes the span's context into NATS headers. */
export function injectTraceHeaders(spanContext: Context, headers: MsgHdrs): void {
  propagation.inject(spanContext, headers, natsSetter);
}

/** The context a message's `traceparent` names, or undefined when it carries none. */
export function extractTraceHeaders(headers: MsgHdrs | undefined): Context | undefined {
  if (!headers || !headers.get(TRACEPARENT_HEADER)) return undefined;
  return propagation.extract(ROOT_CONTEXT, headers, natsGetter);
}

/** Ends a span, marking it failed with the error's code and message when there was one. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e?.code === 'string') span.setAttribute('error.type', e.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.message === 'string' ? e.message : String(error) });
  }
  span.end();
}
