import { statusForCode } from './error-status';

describe('statusForCode', () => {
  it.each([
    ['NoSuchBucket', 404],
    ['BucketAlreadyExists', 409],
    ['BucketNotEmpty', 409],
    ['OperationAborted', 409],
    ['InvalidBucketName', 400],
    ['EntityTooSmall', 400],
    ['PreconditionFailed', 412],
    ['INVALID_COMMAND', 400],
    ['CONCURRENCY_CONFLICT', 409],
    ['TIMEOUT', 504],
    ['NO_HANDLER', 503],
    ['SomethingUnheardOf', 500],
  ])('%s → %i', (code, status) => {
    expect(statusForCode(code)).toBe(status);
  });
});
