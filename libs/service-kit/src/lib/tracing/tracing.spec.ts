import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { ServiceIdentity } from '../service-identity';
import { createLogger } from '../logging/logger';
import { otlpTracesUrl, startTracing } from './tracing';

const identity: ServiceIdentity = { service: 'storage', instance: 'storage-7', region: 'region-2', namespace: '', version: '0.1.0' };
const quiet = pino({ level: 'silent' });

describe('tracing', () => {
  it('is off without CAIRN_OTLP_ENDPOINT: nothing is installed and no span is ever active', () => {
    const tracing = startTracing(identity, { CAIRN_TRACE_SAMPLE_RATIO: 1, CAIRN_OTLP_EXPORT_DELAY_MS: 100 }, quiet);
    expect(tracing.enabled).toBe(false);
    // The no-op context manager: whatever is "activated", the active context stays the root one,
    // so instrumented code (which starts spans only under an active one) creates none.
    const span = trace.getTracer('t').startSpan('x');
    context.with(trace.setSpan(context.active(), span), () => {
      expect(context.active()).toBe(ROOT_CONTEXT);
      expect(trace.getActiveSpan()).toBeUndefined();
    });
    expect(span.isRecording()).toBe(false);
  });

  it('adds /v1/traces to a collector base URL, and keeps a URL that names a path', () => {
    expect(otlpTracesUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/traces');
    expect(otlpTracesUrl('http://collector:4318/')).toBe('http://collector:4318/v1/traces');
    expect(otlpTracesUrl('https://otlp.example/custom/traces')).toBe('https://otlp.example/custom/traces');
  });

  it('exports spans as OTLP JSON with the service, instance and region, then uninstalls itself', async () => {
    const bodies: { contentType: string; body: unknown }[] = [];
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (p: Buffer) => parts.push(p));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push({ contentType: String(req.headers['content-type']), body: JSON.parse(Buffer.concat(parts).toString('utf8')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const tracing = startTracing(identity, { CAIRN_OTLP_ENDPOINT: endpoint, CAIRN_TRACE_SAMPLE_RATIO: 1, CAIRN_OTLP_EXPORT_DELAY_MS: 10_000 }, quiet);
      expect(tracing.enabled).toBe(true);
      const root = tracing.tracer.startSpan('PUT /chunks/:hash', { kind: SpanKind.SERVER });
      let childTraceId = '';
      context.with(trace.setSpan(context.active(), root), () => {
        // Under the active span, a child of the same trace (what RpcClient and the chunk client do).
        const child = trace.getTracer('child').startSpan('child');
        childTraceId = child.spanContext().traceId;
        child.end();
      });
      root.end();
      expect(childTraceId).toBe(root.spanContext().traceId);
      await tracing.shutdown(); // flushes the batch long before its 10 s delay

      expect(bodies).toHaveLength(1);
      expect(bodies[0].contentType).toBe('application/json');
      const payload = bodies[0].body as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; traceId: string }[] }[] }[] };
      const resource = Object.fromEntries(payload.resourceSpans[0].resource.attributes.map((a) => [a.key, a.value.stringValue]));
      expect(resource).toMatchObject({ 'service.name': 'storage', 'service.instance.id': 'storage-7', 'cairn.region': 'region-2', 'service.namespace': 'cairn' });
      const names = payload.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => span.name))).sort();
      expect(names).toEqual(['PUT /chunks/:hash', 'child']);

      // Uninstalled: the process is back to the no-op API.
      const after = trace.getTracer('t').startSpan('after');
      expect(after.isRecording()).toBe(false);
      context.with(trace.setSpan(context.active(), after), () => expect(trace.getActiveSpan()).toBeUndefined());
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('samples new traces by CAIRN_TRACE_SAMPLE_RATIO', async () => {
    const tracing = startTracing(identity, { CAIRN_OTLP_ENDPOINT: 'http://127.0.0.1:9', CAIRN_TRACE_SAMPLE_RATIO: 0, CAIRN_OTLP_EXPORT_DELAY_MS: 10_000 }, quiet);
    try {
      const span = tracing.tracer.startSpan('unsampled');
      expect(span.isRecording()).toBe(false);
      span.end();
    } finally {
      await tracing.shutdown();
    }
  });

  it('names the active trace in each log line written inside a span, and nothing outside one', async () => {
    const lines: string[] = [];
    const logger = createLogger({ ...identity, level: 'info' }, { write: (line: string) => void lines.push(line) });
    const tracing = startTracing(identity, { CAIRN_OTLP_ENDPOINT: 'http://127.0.0.1:9', CAIRN_TRACE_SAMPLE_RATIO: 1, CAIRN_OTLP_EXPORT_DELAY_MS: 10_000 }, quiet);
    try {
      const span = tracing.tracer.startSpan('S3 PutObject', { kind: SpanKind.SERVER });
      context.with(trace.setSpan(context.active(), span), () => logger.info('inside'));
      logger.info('outside');
      span.end();
      const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(inside).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
      expect(outside['trace_id']).toBeUndefined();
    } finally {
      await tracing.shutdown();
    }
  });
});
