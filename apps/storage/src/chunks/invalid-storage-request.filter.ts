import { BadRequestException, Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { StorageErrorCodes, StorageStatusByErrorCode, type StorageErrorReply } from '@cairn/protocol';

/**
 * A query the validation pipe refuses leaves the data plane as a StorageErrorReply with
 * INVALID_STORAGE_REQUEST, whether the node runs as a service (global pipe first) or alone in a
 * test (no service filter at all), rather than in Nest's own error shape.
 */
@Catch(BadRequestException)
export class InvalidStorageRequestFilter implements ExceptionFilter {
  catch(exception: BadRequestException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const response = exception.getResponse() as { message?: unknown } | string;
    const message =
      typeof response === 'string' ? response : Array.isArray(response.message) ? response.message.join('; ') : String(response.message ?? exception.message);
    const reply: StorageErrorReply = { code: StorageErrorCodes.InvalidRequest, message };
    res.status(StorageStatusByErrorCode[StorageErrorCodes.InvalidRequest]).json(reply);
  }
}
