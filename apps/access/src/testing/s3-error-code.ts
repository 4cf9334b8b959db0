import { S3Error } from '../s3/errors/s3.errors';

/** The S3 error code `fn` throws (undefined when it returns; a note when it throws anything else). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof S3Error ? error.code : `not an S3Error: ${String(error)}`;
  }
  return undefined;
}
