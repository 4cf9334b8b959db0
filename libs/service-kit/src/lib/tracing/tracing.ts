import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { BaseServiceConfig } from '../config/service-config';
import type { ServiceIdentity } from '../service-identity';
import { OtlpJsonTraceExporter } from './otlp-json.exporter';

export const SERVICE_KIT_TRACER_NAME = '@cairn/service-kit';
export const OTLP_TRACES_PATH = '/v1/traces';
/** Spans held for export at most; past it new ones are dropped (and counted by the SDK), never queued without bound. */
export const TRACE_EXPORT_QUEUE_MAX_SPANS = 4096;
export const TRACE_EXPORT_BATCH_MAX_SPANS = 512;
export const TRACE_EXPORT_TIMEOUT_MS = 10_000;

/** Tracing as one service started it; `enabled` is false (and everything a no-op) unless CAIRN_OTLP_ENDPOINT is set. */
export interface Tracing {
  readonly enabled: boolean;
  /** The tracer of HTTP server spans; a no-op one when tracing is off. */
  readonly tracer: Tracer;
  /** Sends the spans still held, then (for the last service of the process using it) takes the SDK down. */
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = { enabled: false, tracer: trace.getTracer(SERVICE_KIT_TRACER_NAME), shutdown: async () => undefined };

/**
 * The SDK is global to a process (the OpenTelemetry API keeps one tracer provider, context manager
 * and propagator): the first service of a process to enable tracing installs it with its identity
 * as the resource, later ones in the same process (tests) share it, and the last to stop removes it.
 */
let installed: { provider: BasicTracerProvider; users: number } | undefined;

/** The OTLP/HTTP traces URL of a collector base URL: `/v1/traces` added unless the URL names a path. */
export function otlpTracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '' || url.pathname === '/') url.pathname = OTLP_TRACES_PATH;
  return url.toString();
}

/**
 * Starts tracing when CAIRN_OTLP_ENDPOINT is set: spans carry the service, instance and region as
 * their resource, are sampled by CAIRN_TRACE_SAMPLE_RATIO at the root (a continued trace follows
 * its parent's decision) and are exported in batches over OTLP/HTTP with JSON bodies. When it is
 * not set nothing is installed: the API's no-op context manager keeps the active context the root
 * one, so the instrumented code paths see no active span and create nothing.
 */
export function startTracing(
  identity: ServiceIdentity,
  config: Pick<BaseServiceConfig, 'CAIRN_OTLP_ENDPOINT' | 'CAIRN_TRACE_SAMPLE_RATIO' | 'CAIRN_OTLP_EXPORT_DELAY_MS'>,
  logger: Logger,
): Tracing {
  if (!config.CAIRN_OTLP_ENDPOINT) return DISABLED;
  if (!installed) {
    const url = otlpTracesUrl(config.CAIRN_OTLP_ENDPOINT);
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': identity.service,
        'service.namespace': 'cairn',
        'service.instance.id': identity.instance,
        'service.version': identity.version,
        'cairn.region': identity.region,
        ...(identity.namespace ? { 'cairn.namespace': identity.namespace } : {}),
      }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.CAIRN_TRACE_SAMPLE_RATIO) }),
      spanProcessors: [
        new BatchSpanProcessor(new OtlpJsonTraceExporter(new URL(url), TRACE_EXPORT_TIMEOUT_MS), {
          scheduledDelayMillis: config.CAIRN_OTLP_EXPORT_DELAY_MS,
          maxQueueSize: TRACE_EXPORT_QUEUE_MAX_SPANS,
          maxExportBatchSize: TRACE_EXPORT_BATCH_MAX_SPANS,
          exportTimeoutMillis: TRACE_EXPORT_TIMEOUT_MS,
        }),
      ],
    });
    const contextManager = new AsyncLocalStorageContextManager();
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    diag.setLogger(diagLoggerOf(logger), DiagLogLevel.WARN);
    installed = { provider, users: 0 };
    logger.info({ otlp: url, sampleRatio: config.CAIRN_TRACE_SAMPLE_RATIO }, 'tracing on: spans exported over OTLP/HTTP');
  }
  const current = installed;
  current.users += 1;
  let stopped = false;
  return {
    enabled: true,
    tracer: trace.getTracer(SERVICE_KIT_TRACER_NAME),
    shutdown: async () => {
      if (stopped) return;
      stopped = true;
      current.users -= 1;
      if (current.users > 0) {
        await current.provider.forceFlush().catch(() => undefined);
        return;
      }
      if (installed === current) installed = undefined;
      await current.provider.shutdown().catch(() => undefined);
      trace.disable();
      propagation.disable();
      context.disable();
      diag.disable();
    },
  };
}

/** The SDK's own complaints (an unreachable collector, dropped spans) go to the service log. */
function diagLoggerOf(logger: Logger): DiagLogger {
  const log = (level: 'error' | 'warn' | 'info' | 'debug') => (message: string, ...args: unknown[]) =>
    logger[level]({ otel: args.length ? args.map(String).join(' ') : undefined }, `tracing: ${message}`);
  return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), verbose: log('debug') };
}
