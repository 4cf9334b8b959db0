import { MetadataLimits } from '@cairn/protocol';
import {
  DEFAULT_MAX_KEYS,
  S3Error,
  renderListBucketResultV1,
  renderListBucketResultV2,
  renderListMultipartUploadsResult,
  renderListPartsResult,
  renderListVersionsResult,
  type EncodingType,
  type ObjectSummaryView,
} from '../s3';
import type { GatewayDeps } from './gateway-deps';
import { checksumValuesOf } from './object-headers';
import type { S3Exchange } from './s3-exchange';
import { requesterOf } from './requester';

const MAX_LIST_PARAM_DIGITS = 10;

/** `max-keys` & co: a non-negative integer, capped at S3's 1000. */
function limitParam(ex: S3Exchange, name: string, fallback: number = DEFAULT_MAX_KEYS): number {
  const text = ex.query(name);
  if (text === undefined || text === '') return fallback;
  if (!new RegExp(`^\\d{1,${MAX_LIST_PARAM_DIGITS}}$`).test(text)) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: text });
  }
  return Math.min(Number(text), MetadataLimits.listMaxKeys);
}

function encodingType(ex: S3Exchange): EncodingType | undefined {
  const value = ex.query('encoding-type');
  if (value === undefined) return undefined;
  if (value !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: value });
  return 'url';
}

function optional(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export class ListingHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly listObjects = async (ex: S3Exchange): Promise<void> => {
    const maxKeys = limitParam(ex, 'max-keys');
    const prefix = ex.query('prefix') ?? '';
    const delimiter = optional(ex.query('delimiter'));
    const marker = ex.query('marker') ?? '';
    const owner = await this.owner(ex);
    const result =
      maxKeys === 0
        ? { contents: [], commonPrefixes: [], isTruncated: false, nextMarker: undefined }
        : await this.deps.metadata.listObjects({ bucket: ex.bucket, prefix: optional(prefix), delimiter, maxKeys, marker: optional(marker), ...requesterOf(ex) });
    ex.sendXml(
      renderListBucketResultV1({
        bucket: ex.bucket,
        prefix,
        marker,
        nextMarker: result.nextMarker,
        maxKeys,
        delimiter,
        isTruncated: result.isTruncated,
        contents: result.contents.map((object): ObjectSummaryView => ({ ...summary(object), owner })),
        commonPrefixes: result.commonPrefixes,
        encodingType: encodingType(ex),
      }),
    );
  };

  readonly listObjectsV2 = async (ex: S3Exchange): Promise<void> => {
    const maxKeys = limitParam(ex, 'max-keys');
    const prefix = ex.query('prefix') ?? '';
    const delimiter = optional(ex.query('delimiter'));
    const startAfter = ex.query('start-after');
    // An empty token is no token (what S3 does with `continuation-token=`).
    const continuationToken = optional(ex.query('continuation-token'));
    const owner = ex.query('fetch-owner') === 'true' ? await this.owner(ex) : undefined;
    const result =
      maxKeys === 0
        ? { contents: [], commonPrefixes: [], isTruncated: false, nextContinuationToken: undefined }
        : await this.deps.metadata.listObjectsV2({ bucket: ex.bucket, prefix: optional(prefix), delimiter, maxKeys, startAfter: optional(startAfter), continuationToken, ...requesterOf(ex) });
    ex.sendXml(
      renderListBucketResultV2({
        bucket: ex.bucket,
        prefix,
        startAfter,
        continuationToken,
        nextContinuationToken: result.nextContinuationToken,
        maxKeys,
        delimiter,
        isTruncated: result.isTruncated,
        contents: result.contents.map((object): ObjectSummaryView => ({ ...summary(object), ...(owner ? { owner } : {}) })),
        commonPrefixes: result.commonPrefixes,
        encodingType: encodingType(ex),
      }),
    );
  };

  readonly listObjectVersions = async (ex: S3Exchange): Promise<void> => {
    const maxKeys = limitParam(ex, 'max-keys');
    const prefix = ex.query('prefix') ?? '';
    const delimiter = optional(ex.query('delimiter'));
    const keyMarker = ex.query('key-marker') ?? '';
    const versionIdMarker = ex.query('version-id-marker') ?? '';
    const owner = await this.owner(ex);
    const result =
      maxKeys === 0
        ? { versions: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: undefined, nextVersionIdMarker: undefined }
        : await this.deps.metadata.listObjectVersions({
            bucket: ex.bucket,
            prefix: optional(prefix),
            delimiter,
            maxKeys,
            keyMarker: optional(keyMarker),
            versionIdMarker: optional(versionIdMarker),
            ...requesterOf(ex),
          });
    ex.sendXml(
      renderListVersionsResult({
        bucket: ex.bucket,
        prefix,
        keyMarker,
        versionIdMarker,
        nextKeyMarker: result.nextKeyMarker,
        nextVersionIdMarker: result.nextVersionIdMarker,
        maxKeys,
        delimiter,
        isTruncated: result.isTruncated,
        entries: result.versions.map((version) =>
          version.isDeleteMarker
            ? { kind: 'delete-marker' as const, key: version.key, versionId: version.versionId, isLatest: version.isLatest, lastModified: new Date(version.lastModified), owner }
            : {
                kind: 'version' as const,
                key: version.key,
                versionId: version.versionId,
                isLatest: version.isLatest,
                lastModified: new Date(version.lastModified),
                etag: version.etag ?? '',
                sizeBytes: version.sizeBytes,
                storageClass: version.storageClass ?? 'STANDARD',
                owner,
              },
        ),
        commonPrefixes: result.commonPrefixes,
        encodingType: encodingType(ex),
      }),
    );
  };

  readonly listMultipartUploads = async (ex: S3Exchange): Promise<void> => {
    const maxUploads = limitParam(ex, 'max-uploads');
    const prefix = ex.query('prefix') ?? '';
    const delimiter = optional(ex.query('delimiter'));
    const keyMarker = ex.query('key-marker') ?? '';
    const uploadIdMarker = ex.query('upload-id-marker') ?? '';
    const result =
      maxUploads === 0
        ? { uploads: [], commonPrefixes: [], isTruncated: false, nextKeyMarker: undefined, nextUploadIdMarker: undefined }
        : await this.deps.metadata.listUploads({
            bucket: ex.bucket,
            prefix: optional(prefix),
            delimiter,
            maxUploads,
            keyMarker: optional(keyMarker),
            uploadIdMarker: optional(uploadIdMarker),
          });
    ex.sendXml(
      renderListMultipartUploadsResult({
        bucket: ex.bucket,
        keyMarker,
        uploadIdMarker,
        nextKeyMarker: result.nextKeyMarker ?? '',
        nextUploadIdMarker: result.nextUploadIdMarker ?? '',
        prefix,
        delimiter,
        maxUploads,
        isTruncated: result.isTruncated,
        uploads: (await Promise.all(result.uploads.map(async (upload) => ({ upload, owner: await this.userOwner(upload.owner) })))).map(({ upload, owner }) => ({
          key: upload.key,
          uploadId: upload.uploadId,
          initiator: owner,
          owner,
          storageClass: upload.storageClass,
          initiated: new Date(upload.initiatedAt),
        })),
        commonPrefixes: result.commonPrefixes,
        encodingType: encodingType(ex),
      }),
    );
  };

  readonly listParts = async (ex: S3Exchange): Promise<void> => {
    const uploadId = ex.route?.uploadId ?? '';
    const maxParts = limitParam(ex, 'max-parts');
    const markerText = ex.query('part-number-marker');
    const partNumberMarker = markerText !== undefined && /^\d{1,5}$/.test(markerText) ? Number(markerText) : 0;
    const result = await this.deps.metadata.listParts({ bucket: ex.bucket, uploadId, maxParts: Math.max(1, maxParts), ...(partNumberMarker > 0 ? { partNumberMarker } : {}) });
    const owner = await this.owner(ex);
    const last = result.parts[result.parts.length - 1];
    ex.sendXml(
      renderListPartsResult({
        bucket: ex.bucket,
        key: ex.key,
        uploadId,
        partNumberMarker,
        nextPartNumberMarker: result.nextPartNumberMarker ?? last?.partNumber ?? 0,
        maxParts,
        isTruncated: result.isTruncated,
        parts: result.parts.map((part) => ({
          partNumber: part.partNumber,
          lastModified: new Date(part.lastModified),
          etag: part.etag,
          sizeBytes: part.sizeBytes,
          checksums: checksumValuesOf(part.checksums ?? {}),
        })),
        initiator: owner,
        owner,
        storageClass: result.storageClass ?? 'STANDARD',
      }),
    );
  };

  /** The bucket's owner as S3 names owners: canonical id and display name. */
  private async owner(ex: S3Exchange) {
    const user = await this.deps.users.byName(ex.bucketInfo.owner);
    return { id: user.canonicalId, displayName: user.displayName };
  }

  private async userOwner(name: string) {
    const user = await this.deps.users.byName(name);
    return { id: user.canonicalId, displayName: user.displayName };
  }
}

function summary(object: { key: string; lastModified: string; etag: string; sizeBytes: number; storageClass: string }): ObjectSummaryView {
  return { key: object.key, lastModified: new Date(object.lastModified), etag: object.etag, sizeBytes: object.sizeBytes, storageClass: object.storageClass };
}
