import { ErrorCode, NatsError } from 'nats';
import { cheapenCancelledRequestErrors } from './nats-client-tuning';

describe('cheapenCancelledRequestErrors', () => {
  beforeAll(() => cheapenCancelledRequestErrors());

  it('builds the Cancelled error every finished request makes without a stack trace', () => {
    const error = NatsError.errorForCode(ErrorCode.Cancelled);
    expect(error).toBeInstanceOf(NatsError);
    expect(error.code).toBe(ErrorCode.Cancelled);
    expect(error.stack).not.toMatch(/\n\s+at /);
  });

  it('keeps the stack of every other error, and the process-wide stack limit', () => {
    const limit = Error.stackTraceLimit;
    const error = NatsError.errorForCode(ErrorCode.Timeout);
    expect(error.code).toBe(ErrorCode.Timeout);
    expect(error.stack).toMatch(/\n\s+at /);
    NatsError.errorForCode(ErrorCode.Cancelled);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('is installed once however many connections call it', () => {
    const installed = NatsError.errorForCode;
    cheapenCancelledRequestErrors();
    expect(NatsError.errorForCode).toBe(installed);
  });
});
