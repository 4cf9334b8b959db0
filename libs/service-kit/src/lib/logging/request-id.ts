import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pinoHttp from 'pino-http';
import type { Logger } from 'pino';
import { redactUrl } from './redaction';

export const REQUEST_ID_HEADER = 'x-request-id';
const MAX_REQUEST_ID_LENGTH = 128;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]+$/;

/** A caller's request id is kept when it is sane; otherwise a new one is made. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(given) ? given[0] : given;
  if (value && value.length <= MAX_REQUEST_ID_LENGTH && SAFE_REQUEST_ID.test(value)) return value;
  return randomUUID();
}

export interface HttpLoggerOptions {
  /** Paths whose requests are never logged. */
  readonly quietPaths?: readonly string[];
  /** The level of a request that succeeded (below 400); failures are always warn or error. */
  readonly successLevel?: 'info' | 'debug';
}

/**
 * The level of a request's log line. A client that went away before its answer was complete
 * (the response closed unfinished, with no error of ours) is routine, not a failure: debug.
 */
export function requestLogLevel(res: ServerResponse, err: Error | undefined, successLevel: 'info' | 'debug'): 'error' | 'warn' | 'info' | 'debug' {
  if (err) return 'error';
  if (!res.writableFinished) return 'debug';
  return res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : successLevel;
}

/** Logs each HTTP request as one JSON line carrying its request id, and echoes the id back. */
export function httpLogger(logger: Logger, options: HttpLoggerOptions = {}) {
  const quietPaths = options.quietPaths ?? ['/health', '/health/live', '/metrics'];
  const successLevel = options.successLevel ?? 'info';
  return pinoHttp({
    logger,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdFor(req);
      res.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    autoLogging: { ignore: (req) => quietPaths.includes((req.url ?? '').split('?')[0]) },
    customLogLevel: (_req, res, err) => requestLogLevel(res, err, successLevel),
    // Only these fields of a request are logged: never its headers (authorization, cookies,
    // security tokens), and its URL with presigned signatures and tokens masked.
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
