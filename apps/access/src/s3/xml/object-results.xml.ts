import type { ChecksumAlgorithm } from '../integrity/checksum-algorithms';
import { optionalElement, quoteEtag, s3Timestamp, xmlDocument, xmlElement, xmlNode } from './xml-text';

/** Base64 checksums as S3 lists them (`<ChecksumCRC32>`…), in S3's element order. */
export type ChecksumValues = Readonly<Partial<Record<ChecksumAlgorithm, string>>>;

const CHECKSUM_ELEMENTS: ReadonlyArray<readonly [ChecksumAlgorithm, string]> = [
  ['CRC32', 'ChecksumCRC32'],
  ['CRC32C', 'ChecksumCRC32C'],
  ['CRC64NVME', 'ChecksumCRC64NVME'],
  ['SHA1', 'ChecksumSHA1'],
  ['SHA256', 'ChecksumSHA256'],
];

export function renderChecksumElements(checksums: ChecksumValues | undefined): ReadonlyArray<string | undefined> {
  if (!checksums) return [];
  return CHECKSUM_ELEMENTS.map(([algorithm, element]) => optionalElement(element, checksums[algorithm]));
}

export function renderInitiateMultipartUploadResult(bucket: string, key: string, uploadId: string): string {
  return xmlDocument('InitiateMultipartUploadResult', [xmlElement('Bucket', bucket), xmlElement('Key', key), xmlElement('UploadId', uploadId)]);
}

export interface CompletedUploadView {
  readonly location: string;
  readonly bucket: string;
  readonly key: string;
  /** The multipart ETag, `<md5 of part md5s>-<part count>`. */
  readonly etag: string;
  readonly checksums?: ChecksumValues;
  readonly checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
}

export function renderCompleteMultipartUploadResult(result: CompletedUploadView): string {
  return xmlDocument('CompleteMultipartUploadResult', [
    xmlElement('Location', result.location),
    xmlElement('Bucket', result.bucket),
    xmlElement('Key', result.key),
    xmlElement('ETag', quoteEtag(result.etag)),
    ...renderChecksumElements(result.checksums),
    optionalElement('ChecksumType', result.checksumType),
  ]);
}

export interface CopyResultView {
  readonly lastModified: Date;
  readonly etag: string;
  readonly checksums?: ChecksumValues;
}

export function renderCopyObjectResult(result: CopyResultView): string {
  return xmlDocument('CopyObjectResult', [
    xmlElement('LastModified', s3Timestamp(result.lastModified)),
    xmlElement('ETag', quoteEtag(result.etag)),
    ...renderChecksumElements(result.checksums),
  ]);
}

export function renderCopyPartResult(result: CopyResultView): string {
  return xmlDocument('CopyPartResult', [
    xmlElement('LastModified', s3Timestamp(result.lastModified)),
    xmlElement('ETag', quoteEtag(result.etag)),
    ...renderChecksumElements(result.checksums),
  ]);
}

export interface DeletedView {
  readonly key: string;
  readonly versionId?: string;
  readonly deleteMarker?: boolean;
  readonly deleteMarkerVersionId?: string;
}

export interface DeleteErrorView {
  readonly key: string;
  readonly versionId?: string;
  readonly code: string;
  readonly message: string;
}

/** In quiet mode S3 lists only the errors. */
export function renderDeleteResult(deleted: readonly DeletedView[], errors: readonly DeleteErrorView[], quiet: boolean): string {
  return xmlDocument('DeleteResult', [
    ...(quiet
      ? []
      : deleted.map((entry) =>
          xmlNode('Deleted', [
            xmlElement('Key', entry.key),
            optionalElement('VersionId', entry.versionId),
            entry.deleteMarker ? xmlElement('DeleteMarker', 'true') : undefined,
            optionalElement('DeleteMarkerVersionId', entry.deleteMarkerVersionId),
          ]),
        )),
    ...errors.map((error) =>
      xmlNode('Error', [xmlElement('Key', error.key), optionalElement('VersionId', error.versionId), xmlElement('Code', error.code), xmlElement('Message', error.message)]),
    ),
  ]);
}
