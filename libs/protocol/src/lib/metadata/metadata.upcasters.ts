import type { Upcaster } from '../upcasting';
import { canonicalIdOf } from './user.events';
import { currentStorageClassName, type ContentHeaders } from './common';

/*
 * The metadata events' upcasters, one step each, in the order of the versions they lift from
 * (MetadataEventSchemaVersions holds where each chain ends). See upcasting.ts for how to add one.
 */

type Data = Readonly<Record<string, unknown>>;

/**
 * Version 1 wrote content headers only when a write gave some (and nothing before they were
 * stored at all); version 2 always has them, none being `{}`.
 */
function withContentHeaders<D extends Data>(data: D): D & { readonly contentHeaders: ContentHeaders } {
  return { ...data, contentHeaders: (data['contentHeaders'] as ContentHeaders | undefined) ?? {} };
}

/**
 * Storage classes took S3's names (REDUCED became REDUCED_REDUNDANCY; COLD, kept as three copies
 * while erasure coding did not exist, is STANDARD): the events of the version before carry the old
 * names in `field`.
 */
function withS3StorageClass<D extends Data>(data: D, field: string): D {
  const value = data[field];
  return typeof value === 'string' ? { ...data, [field]: currentStorageClassName(value) } : data;
}

export const METADATA_UPCASTERS: readonly Upcaster[] = [
  // Keys named their user only by name; every user's canonical id is derived from it.
  { type: 'AccessKeyCreated', fromVersion: 1, upcast: (data) => ({ ...(data as Data), canonicalId: canonicalIdOf(String((data as Data)['owner'])) }) },
  { type: 'ObjectVersionPut', fromVersion: 1, upcast: (data) => withContentHeaders(data as Data) },
  { type: 'ObjectVersionCopied', fromVersion: 1, upcast: (data) => withContentHeaders(data as Data) },
  { type: 'MultipartUploadInitiated', fromVersion: 1, upcast: (data) => withContentHeaders(data as Data) },
  {
    type: 'MultipartUploadCompletionWithdrawn',
    fromVersion: 1,
    // It carries the upload as initiated, which a version 1 initiation may have written without them.
    upcast: (data) => ({ ...(data as Data), upload: withContentHeaders((data as Data)['upload'] as Data) }),
  },
  { type: 'ObjectVersionPut', fromVersion: 2, upcast: (data) => withS3StorageClass(data as Data, 'storageClass') },
  { type: 'ObjectVersionCopied', fromVersion: 2, upcast: (data) => withS3StorageClass(data as Data, 'storageClass') },
  { type: 'MultipartUploadInitiated', fromVersion: 2, upcast: (data) => withS3StorageClass(data as Data, 'storageClass') },
  {
    type: 'MultipartUploadCompletionWithdrawn',
    fromVersion: 2,
    upcast: (data) => ({ ...(data as Data), upload: withS3StorageClass((data as Data)['upload'] as Data, 'storageClass') }),
  },
  { type: 'BucketCreated', fromVersion: 1, upcast: (data) => withS3StorageClass(data as Data, 'defaultStorageClass') },
  { type: 'BucketDefaultStorageClassChanged', fromVersion: 1, upcast: (data) => withS3StorageClass(data as Data, 'defaultStorageClass') },
  // Secrets were stored as plaintext; they are sealed from version 3 on (docs/encryption.md).
  {
    type: 'AccessKeyCreated',
    fromVersion: 2,
    upcast: (data) => {
      const { secretAccessKey, ...rest } = data as Data;
      return { ...rest, secret: { kind: 'plaintext', value: String(secretAccessKey) } };
    },
  },
];
