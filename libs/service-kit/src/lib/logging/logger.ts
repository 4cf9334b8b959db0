import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

export interface LoggerIdentity {
  readonly service: string;
  readonly instance: string;
  readonly region: string;
  readonly level: string;
}

/** Structured JSON logs on stdout; every line names the service, instance and region. */
export function createLogger(identity: LoggerIdentity): Logger {
  return pino({
    level: identity.level,
    base: { service: identity.service, instance: identity.instance, region: identity.region },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
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
