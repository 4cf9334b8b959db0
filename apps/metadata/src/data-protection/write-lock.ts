import { defaultRetainUntil, MetadataErrorCodes, type ObjectLockConfiguration, type ObjectRetention } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';

/**
 * The Object Lock a new version gets: the retention and legal hold the request names
 * (x-amz-object-lock-*), else the bucket's default retention. Naming one on a bucket without Object
 * Lock is S3's InvalidRequest.
 */
export function writeLockFor(
  bucket: { readonly objectLock: ObjectLockConfiguration | null },
  request: { readonly retention?: ObjectRetention; readonly legalHold?: boolean },
  writtenAtMs: number,
): { retention?: ObjectRetention; legalHold?: boolean } {
  if (bucket.objectLock === null) {
    if (request.retention !== undefined || request.legalHold !== undefined) {
      throw new MetadataError(MetadataErrorCodes.InvalidRequest, 'Bucket is missing Object Lock Configuration');
    }
    return {};
  }
  const retention = request.retention ?? defaultRetainUntil(bucket.objectLock, writtenAtMs);
  return { ...(retention === undefined ? {} : { retention }), ...(request.legalHold === true ? { legalHold: true } : {}) };
}
