import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The service's own endpoints: scraped and probed all the time, traced only when a caller's trace asks. */
const SERVICE_PATH_PATTERN = /^\/(health|metrics|docs)(\/|\?|$)/;
/** An S3 request to a bucket named like one of them is signed with SigV4 (header or query). */
const S3_SIGNATURE_PATTERN = /^AWS4-HMAC-SHA256 /;
const PRESIGNED_QUERY_PATTERN = /[?&]X-Amz-Signature=/i;

function isQuietServiceRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '/';
  if (!SERVICE_PATH_PATTERN.test(url)) return false;
  if (S3_SIGNATURE_PATTERN.test(req.headers.authorization ?? '') || PRESIGNED_QUERY_PATTERN.test(url)) return false;
  return !req.headers.traceparent;
}

/**
 * A server span per HTTP request, registered by startService only when tracing is on. It continues
 * the caller's trace from a W3C `traceparent` header (a chunk write from access to a storage node)
 * or starts one; everything the request does runs with it active, so RPCs, storage requests and
 * JetStream appends made for it become its children. Named `<METHOD> <route>` once Nest has
 * matched a route; a handler ahead of the router may name it itself (the S3 gateway: `S3 PutObject`).
 */
export function httpTracingMiddleware(tracer: Tracer): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    if (isQuietServiceRequest(req)) {
      next();
      return;
    }
    const method = req.method ?? 'GET';
    const parent = req.headers.traceparent ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
    const span = tracer.startSpan(
      `HTTP ${method}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': (req.url ?? '/').split('?')[0] } },
      parent,
    );
    const end = () => {
      const route = (req as { route?: { path?: unknown } }).route?.path;
      if (typeof route === 'string') {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      }
      if (res.writableFinished) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      } else {
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the response was complete' });
      }
      span.end();
    };
    // A response emits 'close' once, after 'finish' or when its connection went first.
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}
