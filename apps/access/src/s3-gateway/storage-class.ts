import { isErasureCodedClass, isStorageClass, MetadataErrorCodes, CairnError, type ChunkRef, type ObjectVersionView, type StorageClass } from '@cairn/protocol';
import { S3Error } from '../s3';
import type { HeaderBag } from '../s3/auth/canonical-request';
import { copyNeedsRewrite } from '../data-path/storage-class.store';
import type { GatewayDeps } from './gateway-deps';
import type { S3Exchange } from './s3-exchange';

/** Multipart uploads whose class this gateway remembers (it started them, or asked once). */
export const UPLOAD_CLASS_CACHE_MAX = 10_000;

/** x-amz-storage-class, checked: absent is undefined; a class Cairn does not keep is InvalidStorageClass (400). */
export function storageClassFromHeaders(headers: HeaderBag): StorageClass | undefined {
  const raw = headers['x-amz-storage-class'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  return checkedStorageClass(value.trim());
}

export function checkedStorageClass(value: string): StorageClass {
  if (!isStorageClass(value)) throw new S3Error('InvalidStorageClass', `The storage class you specified is not valid: ${value.slice(0, 64)}`);
  return value;
}

/** The class a new object (or upload) is written in: the header's, else the bucket's default. */
export function storageClassOfWrite(ex: S3Exchange): StorageClass {
  return storageClassFromHeaders(ex.headers) ?? ex.bucketInfo.defaultStorageClass ?? 'STANDARD';
}

/** A POST form's x-amz-storage-class field, else the bucket's default. */
export function storageClassOfPostForm(field: string | undefined, bucketDefault: StorageClass | undefined): StorageClass {
  return field === undefined ? (bucketDefault ?? 'STANDARD') : checkedStorageClass(field.trim());
}

/**
 * What a CopyObject adds for its storage class: nothing when none was asked (the copy keeps the
 * source's), the class when the source's chunks serve it as they are, and the chunks re-stored when
 * erasure coding differs (a copy onto itself is how S3 clients change an object's class).
 */
export async function classChangingCopy(
  deps: GatewayDeps,
  source: ObjectVersionView,
  requested: StorageClass | undefined,
): Promise<{ readonly storageClass?: StorageClass; readonly chunks?: readonly ChunkRef[] }> {
  if (requested === undefined) return {};
  const chunks = source.chunks;
  const upgradesCopies = source.storageClass === 'REDUCED_REDUNDANCY' && !isErasureCodedClass(requested) && requested !== 'REDUCED_REDUNDANCY';
  if (!copyNeedsRewrite(chunks, requested) && !upgradesCopies) return { storageClass: requested };
  if (!deps.chunks.rewrite) return { storageClass: requested };
  return { storageClass: requested, chunks: await deps.chunks.rewrite(chunks, requested) };
}

/** The storage class of each multipart upload, for its parts' layout. */
class UploadClasses {
  private readonly known = new Map<string, StorageClass>();

  remember(uploadId: string, storageClass: StorageClass): void {
    if (this.known.size >= UPLOAD_CLASS_CACHE_MAX) this.known.delete(this.known.keys().next().value as string);
    this.known.set(uploadId, storageClass);
  }

  /** The upload's class: remembered, else asked of metadata; the bucket's default when metadata does not know it yet. */
  async of(deps: GatewayDeps, ex: S3Exchange, uploadId: string): Promise<StorageClass> {
    const known = this.known.get(uploadId);
    if (known) return known;
    try {
      const reply = await deps.metadata.listParts({ bucket: ex.bucket, uploadId, maxParts: 1 });
      const storageClass = reply.storageClass ?? ex.bucketInfo.defaultStorageClass ?? 'STANDARD';
      this.remember(uploadId, storageClass);
      return storageClass;
    } catch (error) {
      // Not projected yet (initiated through another gateway a moment ago): metadata will decide the part itself.
      if (error instanceof CairnError && error.code === MetadataErrorCodes.NoSuchUpload) return ex.bucketInfo.defaultStorageClass ?? 'STANDARD';
      throw error;
    }
  }
}

export const uploadClasses = new UploadClasses();
