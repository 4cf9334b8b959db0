import { trace } from '@opentelemetry/api';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactingDestination } from './redaction';

// Re-exported so the package index need not change.
export { isSecretName, REDACTED, redactLogLine, redactUrl, secretConfigValues } from './redaction';

export interface LoggerIdentity {
  readonly service: string;
  readonly instance: string;
  readonly region: string;
  readonly level: string;
  /**
   * Secret values masked wherever they would appear in a line (secretConfigValues(config): the
   * cluster secret, passwords, tokens), beyond what redaction finds by name and shape.
   */
  readonly secrets?: readonly string[];
}

/** Where pino itself would write: its fast writer on fd 1, or process.stdout once something replaced its write (a test capturing it). */
function stdout(): DestinationStream {
  const replaced = process.stdout.write !== (process.stdout.constructor as { prototype: NodeJS.WriteStream }).prototype.write;
  return replaced ? process.stdout : pino.destination(1);
}

/**
 * Structured JSON logs on stdout; every line names the service, instance and region. No secret
 * reaches the output: each line passes redactLogLine (./redaction), which masks fields named like
 * secrets (authorization, cookie, x-amz-security-token, *SECRET*, *PASSWORD*, *TOKEN* …), URL
 * passwords, bearer and operator tokens, request signatures and the `secrets` given.
 */
/** `{ trace_id, span_id }` of the span active where a line is logged; nothing when tracing is off. */
function traceOfActiveSpan(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export function createLogger(identity: LoggerIdentity, destination: DestinationStream = stdout()): Logger {
  return pino(
    {
      level: identity.level,
      base: { service: identity.service, instance: identity.instance, region: identity.region },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // A line written inside a traced request names its trace, to go from a log line to the trace.
      mixin: traceOfActiveSpan,
    },
    redactingDestination(destination, identity.secrets),
  );
}

/** Nest's start-up chatter (module loading, route mapping) is debug-level: one line per route at info drowns the rest. */
const NEST_BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestMicroservice']);

/** Nest's own logging (module loading, route mapping, errors) goes through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    if (context && NEST_BOOT_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string) {
    this.logger.fatal({ context }, String(message));
  }
}
