import { CairnError, ErrorCodes, MetadataErrorCodes, StorageErrorCodes } from '@cairn/protocol';
import { ChunkClientErrorCodes } from '@cairn/chunk-client';
import { S3Error, isS3Error, isS3ErrorCode } from '../s3';
import { NO_STORAGE_NODES } from '@cairn/chunk-client';

/** Headers S3 adds to some errors (a GET of a deleted key says it hit a delete marker). */
export interface MappedError {
  readonly error: S3Error;
  readonly headers: Record<string, string>;
  /** A failure of ours rather than the client's: worth an error log. */
  readonly internal: boolean;
  /**
   * Why the request was refused, for a refusal expected in operation and told to the client (a
   * region without free space): not a fault, logged once at warn with this reason (markRefusal).
   */
  readonly refusal?: string;
}

const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  ErrorCodes.Timeout,
  ErrorCodes.NoHandler,
  ChunkClientErrorCodes.WriteQuorumNotReached,
  ChunkClientErrorCodes.ChunkUnavailable,
  ChunkClientErrorCodes.TooFewStorageNodes,
  NO_STORAGE_NODES,
]);

/** Maps whatever a handler threw to the S3 error the client gets. */
export function mapError(error: unknown): MappedError {
  if (isS3Error(error)) return { error, headers: {}, internal: false };
  if (error instanceof CairnError) {
    // Object Lock refusals are S3's AccessDenied, with the reason.
    if (error.code === MetadataErrorCodes.ObjectLocked) return { error: new S3Error('AccessDenied', error.message), headers: {}, internal: false };
    if (isS3ErrorCode(error.code)) {
      const headers: Record<string, string> = {};
      const details = error.details ?? {};
      if (details['deleteMarker'] === true) {
        headers['x-amz-delete-marker'] = 'true';
        if (typeof details['versionId'] === 'string') headers['x-amz-version-id'] = details['versionId'];
      }
      const s3Details: Record<string, string> = {};
      for (const name of ['bucket', 'key'] as const) {
        if (typeof details[name] === 'string') s3Details[name === 'bucket' ? 'BucketName' : 'Key'] = details[name] as string;
      }
      // S3 names the size asked for and the most it takes.
      if (error.code === 'EntityTooLarge' && typeof details['sizeBytes'] === 'number' && typeof details['maxSizeBytes'] === 'number') {
        s3Details['ProposedSize'] = String(details['sizeBytes']);
        s3Details['MaxSizeAllowed'] = String(details['maxSizeBytes']);
      }
      return { error: new S3Error(error.code, error.message, s3Details), headers, internal: false };
    }
    if (error.code === ChunkClientErrorCodes.WriteQuorumNotReached && error.message.includes(StorageErrorCodes.StorageFull)) {
      return {
        error: new S3Error('ServiceUnavailable', 'Too few storage nodes have free space for this object: space must be freed or nodes added.'),
        headers: {},
        internal: false,
        refusal: error.message,
      };
    }
    if (UNAVAILABLE_CODES.has(error.code)) return { error: new S3Error('ServiceUnavailable'), headers: {}, internal: true };
    if (error.code === ErrorCodes.ConcurrencyConflict) return { error: new S3Error('OperationAborted'), headers: {}, internal: false };
    if (error.code === ErrorCodes.InvalidCommand) return { error: new S3Error('InvalidRequest', error.message), headers: {}, internal: false };
  }
  return { error: new S3Error('InternalError'), headers: {}, internal: true };
}

/** Metadata's answer that the key (or the version named) is not there. */
export function isAbsent(error: unknown): boolean {
  return error instanceof CairnError && (error.code === MetadataErrorCodes.NoSuchKey || error.code === MetadataErrorCodes.NoSuchVersion);
}
