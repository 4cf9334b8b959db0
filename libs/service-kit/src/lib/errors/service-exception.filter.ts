import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CairnError, ErrorCodes } from '@cairn/protocol';
import type { Request, Response } from 'express';
import { throwError } from 'rxjs';
import { REQUEST_ID_HEADER } from '../logging/request-id';
import { statusForCode } from './error-status';

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
