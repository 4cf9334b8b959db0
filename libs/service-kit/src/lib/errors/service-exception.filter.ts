import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CairnError, ErrorCodes } from '@cairn/protocol';
import type { Request, Response } from 'express';
import { throwError } from 'rxjs';
import { REQUEST_ID_HEADER } from '../logging/request-id';
import { statusForCode } from './error-status';

/** The codes of the client errors Express's body parser raises that are not plain 400s. */
const CLIENT_HTTP_ERROR_CODES: Readonly<Record<number, string>> = {
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** An http-errors client error (what body-parser throws: `status` 4xx, `expose` true). */
function isClientHttpError(error: unknown): error is Error & { readonly status: number } {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && expose === true;
}

/**
 * One filter for both sides of a hybrid app. HTTP: every error leaves as JSON
 * `{ code, message, requestId }` with a status that fits the code. RPC: the original error goes
 * back to the JetStream transport untouched, so its code reaches the caller or the dead-letter.
 */
@Catch()
export class ServiceExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') return throwError(() => exception);
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const requestId = String(res.getHeader(REQUEST_ID_HEADER) ?? '');
    let status = 500;
    let body: { code: string; message: string; details?: unknown };
    if (exception instanceof CairnError) {
      status = statusForCode(exception.code);
      body = { code: exception.code, message: exception.message, ...(exception.details ? { details: exception.details } : {}) };
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const response = exception.getResponse() as { message?: unknown; error?: string } | string;
      const message =
        typeof response === 'string' ? response : Array.isArray(response.message) ? response.message.join('; ') : String(response.message ?? exception.message);
      const error = typeof response === 'object' && typeof response.error === 'string' ? response.error.replace(/\s+/g, '') : undefined;
      body = { code: status === 400 ? ErrorCodes.InvalidCommand : error || 'HttpError', message };
    } else if (isClientHttpError(exception)) {
      // Express's body parser refusing a body (too large, bad charset or encoding) before any route
      // or guard ran: the client's error, with the status the parser chose.
      status = exception.status;
      body = { code: CLIENT_HTTP_ERROR_CODES[status] ?? ErrorCodes.InvalidCommand, message: exception.message };
    } else {
      body = { code: ErrorCodes.Internal, message: 'internal error' };
      this.logger.error(`unhandled error on ${req.method} ${req.url}: ${exception instanceof Error ? exception.stack : String(exception)}`);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ ...body, requestId });
  }
}
