import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Where markRefusal keeps its reason on a response. */
const REFUSAL = Symbol('cairn.refusal');
type RefusingResponse = ServerResponse & { [REFUSAL]?: string };

/**
 * Marks `res` as the answer to a request refused for a condition expected in operation and told to
 * the client (a region or a disk without room: 503, 507), not a fault of the service: its request
 * line is then the one line logged for it, at warn, with `reason` and no stack, whatever the status.
 * Errors of the service itself keep their error line with a stack.
 */
export function markRefusal(res: ServerResponse, reason: string): void {
  (res as RefusingResponse)[REFUSAL] = reason;
}

/** The reason markRefusal gave `res`, if it was marked. */
export function refusalOf(res: ServerResponse): string | undefined {
  return (res as RefusingResponse)[REFUSAL];
}

/**
 * The level of a request's log line. A client that went away before its answer was complete
 * (the response closed unfinished, with no error of ours) is routine, not a failure: debug. A
 * refusal (markRefusal) is warn. A 404 is a client asking whether something exists (s3fs, rclone
 * and restic do so thousands of times in one sync): the level of a success, not a warning.
 */
export function requestLogLevel(res: ServerResponse, err: Error | undefined, successLevel: 'info' | 'debug'): 'error' | 'warn' | 'info' | 'debug' {
  if (err) return 'error';
  if (!res.writableFinished) return 'debug';
  if (refusalOf(res) !== undefined) return 'warn';
  if (res.statusCode === 404) return successLevel;
  return res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : successLevel;
}

type LoggedRequest = IncomingMessage & { id?: string };
type LoggedResponse = ServerResponse & { err?: Error };

/** The path of a request target, without its query. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Logs each HTTP request as one JSON line carrying its request id, and echoes the id back. The
 * line is built only when its level is enabled: no per-request child logger or serialiser runs for
 * a request that is not logged (pino-http made two children and serialised the request for each,
 * about 5% of the S3 gateway's CPU under small requests, which it logs at debug).
 */
export function httpLogger(logger: Logger, options: HttpLoggerOptions = {}) {
  const quietPaths = new Set(options.quietPaths ?? ['/health', '/health/live', '/metrics']);
  const successLevel = options.successLevel ?? 'info';
  return (req: LoggedRequest, res: LoggedResponse, next?: () => void): void => {
    const id = req.id ?? requestIdFor(req);
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    if (!quietPaths.has(pathOf(req.url))) {
      const startedAtMs = Date.now();
      const onDone = (err?: Error): void => {
        res.removeListener('close', onDone);
        res.removeListener('finish', onDone);
        res.removeListener('error', onDone);
        const level = requestLogLevel(res, err, successLevel);
        if (!logger.isLevelEnabled(level)) return;
        // Only these fields of a request are logged: never its headers (authorization, cookies,
        // security tokens), and its URL with presigned signatures and tokens masked.
        const line = { req: { id, method: req.method, url: redactUrl(req.url ?? '') }, res: { statusCode: res.statusCode }, responseTime: Date.now() - startedAtMs };
        // A refusal (markRefusal) is expected and told to the client: its line names why, with no stack.
        const refusal = level === 'warn' ? refusalOf(res) : undefined;
        const error = refusal === undefined ? (err ?? res.err ?? (res.statusCode >= 500 ? new Error(`failed with status code ${res.statusCode}`) : undefined)) : undefined;
        if (error) logger[level]({ ...line, err: error }, 'request errored');
        else if (refusal !== undefined) logger[level]({ ...line, refusal }, 'request refused');
        else logger[level](line, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
      };
      res.on('close', onDone);
      res.on('finish', onDone);
      res.on('error', onDone);
    }
    next?.();
  };
}
