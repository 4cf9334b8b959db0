import { bucketNameProblem, MetadataErrorCodes, MetadataLimits } from '@cairn/protocol';
import { MetadataError } from './metadata-error';

const LONE_SURROGATE_PATTERN = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function validateBucketName(name: string): void {
  const problem = bucketNameProblem(name);
  if (problem !== null) throw new MetadataError(MetadataErrorCodes.InvalidBucketName, `bucket name "${name}" ${problem}`, { bucket: name });
}

/**
 * Keys are any UTF-8 up to 1024 bytes. Lone surrogates have no UTF-8 form, and NUL can neither be
 * stored in Postgres text nor written in S3's XML, so both are refused.
 */
export function validateObjectKey(key: string): void {
  if (key.length === 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'the object key is empty');
  if (utf8ByteLength(key) > MetadataLimits.keyMaxBytes) {
    throw new MetadataError(MetadataErrorCodes.KeyTooLong, `the object key is longer than ${MetadataLimits.keyMaxBytes} bytes`);
  }
  if (LONE_SURROGATE_PATTERN.test(key) || key.includes('\u0000')) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'the object key is not valid UTF-8 text');
  }
}

/** The key must be a string before it can be hashed; the decider validates the rest (length, UTF-8). */
export function requireKey(bucket: unknown, key: unknown): void {
  if (typeof bucket !== 'string' || bucket.length === 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a bucket name is required');
  if (typeof key !== 'string' || key.length === 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'an object key is required');
}

/**
 * What a HEAD/GET of a key checks before either name becomes a subject token (the bucket's name
 * must never put "*", ">" or spaces into one), in the order metadata has always checked them.
 */
export function checkObjectRead(bucket: unknown, key: unknown): void {
  requireKey(bucket, key);
  validateObjectKey(key as string);
  validateBucketName(bucket as string);
}
