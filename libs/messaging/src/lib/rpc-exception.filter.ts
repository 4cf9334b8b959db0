import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Nest's default RPC filter turns every unknown error into "Internal server error", which would
 * erase the stable codes Cairn's errors carry. This filter hands the original error back to the
 * JetStream transport, which turns it into a typed reply or a dead-letter reason.
 */
@Catch()
export class PassThroughRpcExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
