import 'reflect-metadata';
import { ValidationPipe, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { JetStreamTransport, NatsConnectionManager } from '@cairn/messaging';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BaseServiceConfig, ConfigError, loadConfig } from './config/service-config';
import { ServiceExceptionFilter } from './errors/service-exception.filter';
import { HeartbeatService } from './heartbeat/heartbeat.service';
import { createLogger, PinoNestLogger, secretConfigValues } from './logging/logger';
import { httpLogger, REQUEST_ID_HEADER } from './logging/request-id';
import { MetricsService } from './metrics/metrics.service';
import { CAIRN_VERSION, type ServiceIdentity } from './service-identity';
import { applyClusterAuth } from './security/cluster-auth.guard';
import { ClusterCredentials, resolveClusterSecret } from './security/cluster-credentials';
import { httpsServerOptions } from './security/service-tls';
import { answerUnparsableRequests, type AnswerUnparsableRequest } from './http/unparsable-requests';
import { UntrustedInputInterceptor } from './http/untrusted-input.interceptor';
import { messagingConfigOf } from './service-kit.module';
import { httpTracingMiddleware } from './tracing/http-tracing.middleware';
import { startTracing } from './tracing/tracing';

/** Longest a graceful shutdown may take before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 10_000;
/** Bounds on what an HTTP client may hold open (slow-loris, oversized headers). */
export const HEADERS_TIMEOUT_MS = 20_000;
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/**
 * Header lines a request may carry. One with more is refused whole (431, or the service's own
 * answer), never cut to this many: Node's maxHeadersCount drops the ones past it silently, so the
 * server parses them all (its 16 KiB maxHeaderSize bounds them) and this limit is checked here.
 */
export const MAX_REQUEST_HEADERS = 200;
export const TOO_MANY_HEADERS_CODE = 'TOO_MANY_HEADERS';
const HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE = 431;
const IDLE_SOCKET_REAP_MS = 50;

/** The header lines a request arrived with, repeats included (Node lists them all in rawHeaders). */
export function requestHeaderCount(req: IncomingMessage): number {
  return req.rawHeaders.length / 2;
}

/** How a service answers a request it refuses before any route sees it. */
export type RequestRefusal = (req: IncomingMessage, res: ServerResponse) => void;

function refuseTooManyHeadersAsJson(_req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({
    code: TOO_MANY_HEADERS_CODE,
    message: `a request may carry at most ${MAX_REQUEST_HEADERS} headers`,
    requestId: String(res.getHeader(REQUEST_ID_HEADER) ?? ''),
  });
  res.writeHead(HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
  res.end(body);
}

export interface ServiceDefinition<C extends BaseServiceConfig> {
  readonly service: string;
  readonly description: string;
  readonly configClass: new () => C;
  readonly defaultPort: number;
  /** The composition root: the app module built from the validated config. */
  readonly module: (config: C, identity: ServiceIdentity) => DynamicModule;
  /** Leave request bodies unparsed (S3 and chunk uploads stream them). */
  readonly rawBodies?: boolean;
  /** Runs after the app is built and before it listens: extra middleware, settings. */
  readonly configure?: (app: INestApplication, config: C) => void | Promise<void>;
  /**
   * Whether a successful request is logged at info (the default) or only at debug: a data path
   * serving thousands of requests a second would spend its time writing log lines.
   */
  readonly logSuccessfulRequests?: (config: C) => boolean;
  /**
   * Answers a request with more than MAX_REQUEST_HEADERS headers in the service's own error format
   * (the S3 gateway's is S3 XML); by default 431 with the service error JSON.
   */
  readonly refuseTooManyHeaders?: (app: INestApplication) => RequestRefusal;
  /**
   * Answers a request Node's HTTP parser refuses before any middleware sees it (malformed request
   * line or headers, a header section over 16 KiB, headers not in within HEADERS_TIMEOUT_MS) and
   * CONNECT, in the service's own error format; by default the service error JSON.
   */
  readonly answerUnparsableRequest?: (app: INestApplication) => AnswerUnparsableRequest;
  /** Runs once the HTTP server listens, with the URL it is reachable at. */
  readonly afterListen?: (app: INestApplication, url: string) => void | Promise<void>;
  /**
   * Requests the service answers itself without Express or Nest (the S3 gateway's data path): they
   * pass through the same service-kit middleware as every request (request id and log line, tracing,
   * the header-count refusal, HTTP metrics, in-flight count), in the same order, and then go to
   * `serve` instead of Express's router. Everything else goes to Express as before.
   */
  readonly directRequests?: (app: INestApplication) => DirectRequests;
}

/** What a service answers without the framework (ServiceDefinition.directRequests). */
export interface DirectRequests {
  /** Whether this request is the service's own to answer. */
  claims(req: IncomingMessage): boolean;
  /** Answers a claimed request; it never reaches Express. */
  serve(req: IncomingMessage, res: ServerResponse): void;
}

type HttpMiddleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Puts `direct` in front of the framework on `server`: a request it claims runs `front` (the
 * middleware Express would have run first, in order) and then `direct.serve`; any other request goes
 * to the server's request listeners as they were. Saves Express's per-request work on the claimed
 * requests (its router walking each middleware layer, swapping the request's and response's
 * prototypes, URL parsing): about 10% of the S3 gateway's CPU under 4 KiB GETs. The response keeps
 * Express's `X-Powered-By` header when the app sends it, so answers are unchanged byte for byte.
 */
export function answerDirectly(
  server: EventEmitter,
  front: readonly HttpMiddleware[],
  direct: DirectRequests,
  options: { readonly poweredBy?: string; readonly logger: Logger },
): void {
  const framework = server.listeners('request') as unknown as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', function (this: unknown, req: IncomingMessage, res: ServerResponse) {
    if (!direct.claims(req)) {
      for (const listener of framework) listener.call(this, req, res);
      return;
    }
    // A request pipelined behind another on the same connection waits until that one is answered
    // (Node hands its response the socket then): HTTP allows working on pipelined requests at once
    // only when all are safe (RFC 9112 §9.3.2), and a PUT then a DELETE of one key must land in
    // that order. Node queues the answers in order but would start every request as it is parsed.
    if (res.socket === null) res.once('socket', () => serveClaimed(req, res));
    else serveClaimed(req, res);
  });

  function serveClaimed(req: IncomingMessage, res: ServerResponse): void {
    if (options.poweredBy !== undefined) res.setHeader('X-Powered-By', options.poweredBy);
    let index = 0;
    const next = (): void => {
      const middleware = front[index];
      index += 1;
      if (middleware) middleware(req, res, next);
      else direct.serve(req, res);
    };
    try {
      next();
    } catch (error) {
      // What Express's final handler did with a middleware that threw: log it, answer 500.
      options.logger.error({ err: error }, 'request failed before it was served');
      if (res.headersSent) res.destroy();
      else {
        res.statusCode = 500;
        res.end();
      }
    }
  }
}

export interface RunningService<C extends BaseServiceConfig> {
  readonly app: INestApplication;
  readonly config: C;
  readonly identity: ServiceIdentity;
  readonly transport: JetStreamTransport;
  readonly url: string;
  readonly logger: Logger;
  close(): Promise<void>;
}

/** Builds, wires and starts one service: HTTP (API, health, metrics, docs) plus the JetStream transport. */
export async function startService<C extends BaseServiceConfig>(
  definition: ServiceDefinition<C>,
  env: Record<string, string | undefined> = process.env,
): Promise<RunningService<C>> {
  const config = loadConfig(definition.configClass, env, {
    CAIRN_HTTP_PORT: definition.defaultPort,
  } as Partial<Record<keyof C, unknown>>);
  const identity: ServiceIdentity = {
    service: definition.service,
    instance: config.CAIRN_INSTANCE ?? `${definition.service}-1`,
    region: config.CAIRN_REGION,
    namespace: config.CAIRN_NS,
    version: CAIRN_VERSION,
  };
  const logger = createLogger({ ...identity, level: config.CAIRN_LOG_LEVEL, secrets: [...secretConfigValues(config), resolveClusterSecret(config)] });
  const tracing = startTracing(identity, config, logger);
  const httpsOptions = httpsServerOptions(config);
  const app = await NestFactory.create(definition.module(config, identity), {
    httpsOptions,
    logger: new PinoNestLogger(logger),
    bodyParser: !definition.rawBodies,
    // The cluster guard checks a signed request's body against its hash.
    rawBody: !definition.rawBodies,
    abortOnError: false,
  });
  let draining = false;
  const refuseTooManyHeaders = definition.refuseTooManyHeaders?.(app) ?? refuseTooManyHeadersAsJson;
  // Every request runs these first, whether Express or the service's direct path (directRequests) answers it.
  const front: HttpMiddleware[] = [
    // While draining, answers tell keep-alive clients to go, so idle sockets do not hold shutdown.
    (_req, res, next) => {
      if (draining) res.setHeader('Connection', 'close');
      next();
    },
    httpLogger(logger, { successLevel: (definition.logSuccessfulRequests?.(config) ?? true) ? 'info' : 'debug' }),
    ...(tracing.enabled ? [httpTracingMiddleware(tracing.tracer)] : []),
    (req, res, next) => {
      if (requestHeaderCount(req) > MAX_REQUEST_HEADERS) refuseTooManyHeaders(req, res);
      else next();
    },
    app.get(MetricsService).middleware() as unknown as HttpMiddleware,
    app.get(HeartbeatService).middleware() as unknown as HttpMiddleware,
  ];
  for (const middleware of front) app.use(middleware);
  // Before any pipe (ValidationPipe walks a body recursively): a deeply nested body is refused,
  // not a stack overflow; so is NUL in any text, which no route takes and Postgres cannot hold.
  app.useGlobalInterceptors(new UntrustedInputInterceptor());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, transform: true }));
  app.useGlobalFilters(new ServiceExceptionFilter());
  applyClusterAuth(app, app.get(ClusterCredentials), config);
  const docs = new DocumentBuilder()
    .setTitle(`Cairn ${definition.service}`)
    .setDescription(definition.description)
    .setVersion(CAIRN_VERSION)
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, docs), { jsonDocumentUrl: 'docs/json' });
  await definition.configure?.(app, config);
  if (definition.directRequests) {
    const express = app.getHttpAdapter().getInstance() as { enabled?(setting: string): boolean };
    answerDirectly(app.getHttpServer(), front, definition.directRequests(app), { poweredBy: express.enabled?.('x-powered-by') ? 'Express' : undefined, logger });
  }

  const transport = new JetStreamTransport(app.get(NatsConnectionManager), messagingConfigOf(identity, config), app.get(ClusterCredentials));
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  const server = app.getHttpServer();
  answerUnparsableRequests(server, definition.answerUnparsableRequest?.(app));
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 0; // large uploads stream for long; idle sockets are cut by the timeouts above
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxHeadersCount = 0; // none dropped: requests over MAX_REQUEST_HEADERS are refused whole above
  await app.listen(config.CAIRN_HTTP_PORT, config.CAIRN_HTTP_HOST);
  const port = (server.address() as AddressInfo).port;
  const url = `${httpsOptions ? 'https' : 'http'}://127.0.0.1:${port}`;
  app.get(HeartbeatService).setUrl(url);
  logger.info({ url, nats: config.CAIRN_NATS_URL, namespace: identity.namespace || '(none)' }, `${definition.service} listening`);
  await definition.afterListen?.(app, url);
  const close = async () => {
    draining = true;
    const reaper = setInterval(() => server.closeIdleConnections(), IDLE_SOCKET_REAP_MS);
    try {
      await app.close();
    } finally {
      clearInterval(reaper);
      await tracing.shutdown();
    }
  };
  return { app, config, identity, transport, url, logger, close };
}

/** main.ts of every service: start, or print one line naming the bad variable and exit 1; drain on SIGTERM. */
export function runService<C extends BaseServiceConfig>(definition: ServiceDefinition<C>): void {
  startService(definition).then(
    (running) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        running.logger.info({ signal }, 'shutting down: draining consumers and in-flight requests');
        setTimeout(() => {
          running.logger.error('graceful shutdown took too long; exiting');
          process.exit(1);
        }, SHUTDOWN_GRACE_MS).unref();
        running.close().then(
          () => process.exit(0),
          (error) => {
            running.logger.error({ err: error }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (error) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`${definition.service}: ${error.message}\n`);
      } else {
        process.stderr.write(`${definition.service}: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
      }
      process.exit(1);
    },
  );
}
