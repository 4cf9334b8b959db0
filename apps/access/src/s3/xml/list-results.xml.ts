import type { ChecksumAlgorithm } from '../integrity/checksum-algorithms';
import { renderOwner, type OwnerView } from './bucket-results.xml';
import { renderChecksumElements, type ChecksumValues } from './object-results.xml';
import { optionalElement, quoteEtag, s3Timestamp, s3UrlEncode, xmlDocument, xmlElement, xmlNode } from './xml-text';

export type EncodingType = 'url';

export interface ObjectSummaryView {
  readonly key: string;
  readonly lastModified: Date;
  readonly etag: string;
  readonly sizeBytes: number;
  readonly storageClass: string;
  /** Present when the request asked for owners (v1 always; v2 with fetch-owner=true). */
  readonly owner?: OwnerView;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

/** Applies `EncodingType=url` to the fields S3 encodes (keys, prefixes, delimiters, markers). */
function encoder(encodingType: EncodingType | undefined): (text: string) => string {
  return encodingType === 'url' ? s3UrlEncode : (text) => text;
}

/** An object's (or version's) elements after its key (and version id), in S3's order. */
function summaryElements(object: Omit<ObjectSummaryView, 'key'>): (string | undefined)[] {
  return [
    xmlElement('LastModified', s3Timestamp(object.lastModified)),
    xmlElement('ETag', quoteEtag(object.etag)),
    optionalElement('ChecksumAlgorithm', object.checksumAlgorithm),
    xmlElement('Size', String(object.sizeBytes)),
    object.owner ? renderOwner('Owner', object.owner) : undefined,
    xmlElement('StorageClass', object.storageClass),
  ];
}

function renderContents(object: ObjectSummaryView, encode: (text: string) => string): string {
  return xmlNode('Contents', [xmlElement('Key', encode(object.key)), ...summaryElements(object)]);
}

function renderCommonPrefixes(prefixes: readonly string[], encode: (text: string) => string): string[] {
  return prefixes.map((prefix) => xmlNode('CommonPrefixes', [xmlElement('Prefix', encode(prefix))]));
}

/** What the key-ordered listings (ListObjects v1 and v2, ListObjectVersions) have besides their markers and entries. */
interface KeyListingView {
  readonly bucket: string;
  readonly prefix: string;
  readonly maxKeys: number;
  readonly delimiter?: string;
  readonly isTruncated: boolean;
  readonly commonPrefixes: readonly string[];
  readonly encodingType?: EncodingType;
}

/** A key-ordered listing in S3's element order: Name, Prefix, its markers, MaxKeys, Delimiter, IsTruncated, its entries, CommonPrefixes, EncodingType. */
function renderKeyListing(
  rootName: string,
  view: KeyListingView,
  parts: (encode: (text: string) => string) => { readonly markers: readonly (string | undefined)[]; readonly entries: readonly string[] },
): string {
  const encode = encoder(view.encodingType);
  const { markers, entries } = parts(encode);
  return xmlDocument(rootName, [
    xmlElement('Name', view.bucket),
    xmlElement('Prefix', encode(view.prefix)),
    ...markers,
    xmlElement('MaxKeys', String(view.maxKeys)),
    view.delimiter === undefined ? undefined : xmlElement('Delimiter', encode(view.delimiter)),
    xmlElement('IsTruncated', String(view.isTruncated)),
    ...entries,
    ...renderCommonPrefixes(view.commonPrefixes, encode),
    optionalElement('EncodingType', view.encodingType),
  ]);
}

export interface ListObjectsV1View extends KeyListingView {
  readonly marker: string;
  /** S3 sends NextMarker only when a delimiter was given and the result is truncated. */
  readonly nextMarker?: string;
  readonly contents: readonly ObjectSummaryView[];
}

export function renderListBucketResultV1(view: ListObjectsV1View): string {
  return renderKeyListing('ListBucketResult', view, (encode) => ({
    markers: [xmlElement('Marker', encode(view.marker)), view.nextMarker === undefined ? undefined : xmlElement('NextMarker', encode(view.nextMarker))],
    entries: view.contents.map((object) => renderContents(object, encode)),
  }));
}

export interface ListObjectsV2View extends KeyListingView {
  readonly startAfter?: string;
  readonly continuationToken?: string;
  readonly nextContinuationToken?: string;
  readonly contents: readonly ObjectSummaryView[];
}

/** KeyCount counts both objects and common prefixes, as S3 does. */
export function renderListBucketResultV2(view: ListObjectsV2View): string {
  return renderKeyListing('ListBucketResult', view, (encode) => ({
    markers: [
      view.startAfter === undefined ? undefined : xmlElement('StartAfter', encode(view.startAfter)),
      optionalElement('ContinuationToken', view.continuationToken),
      optionalElement('NextContinuationToken', view.nextContinuationToken),
      xmlElement('KeyCount', String(view.contents.length + view.commonPrefixes.length)),
    ],
    entries: view.contents.map((object) => renderContents(object, encode)),
  }));
}

export type VersionEntryView =
  | {
      readonly kind: 'version';
      readonly key: string;
      readonly versionId: string;
      readonly isLatest: boolean;
      readonly lastModified: Date;
      readonly etag: string;
      readonly sizeBytes: number;
      readonly storageClass: string;
      readonly owner?: OwnerView;
      readonly checksumAlgorithm?: ChecksumAlgorithm;
    }
  | {
      readonly kind: 'delete-marker';
      readonly key: string;
      readonly versionId: string;
      readonly isLatest: boolean;
      readonly lastModified: Date;
      readonly owner?: OwnerView;
    };

export interface ListVersionsView extends KeyListingView {
  readonly keyMarker: string;
  readonly versionIdMarker: string;
  readonly nextKeyMarker?: string;
  readonly nextVersionIdMarker?: string;
  /** Versions and delete markers interleaved in key order, newest first within a key. */
  readonly entries: readonly VersionEntryView[];
}

/** Objects written while versioning was never enabled have the version id "null". */
export function renderListVersionsResult(view: ListVersionsView): string {
  return renderKeyListing('ListVersionsResult', view, (encode) => ({
    markers: [
      xmlElement('KeyMarker', encode(view.keyMarker)),
      xmlElement('VersionIdMarker', view.versionIdMarker),
      view.nextKeyMarker === undefined ? undefined : xmlElement('NextKeyMarker', encode(view.nextKeyMarker)),
      optionalElement('NextVersionIdMarker', view.nextVersionIdMarker),
    ],
    entries: view.entries.map((entry) => {
      const head = [xmlElement('Key', encode(entry.key)), xmlElement('VersionId', entry.versionId), xmlElement('IsLatest', String(entry.isLatest))];
      return entry.kind === 'version'
        ? xmlNode('Version', [...head, ...summaryElements(entry)])
        : xmlNode('DeleteMarker', [...head, xmlElement('LastModified', s3Timestamp(entry.lastModified)), entry.owner ? renderOwner('Owner', entry.owner) : undefined]);
    }),
  }));
}

export interface PartView {
  readonly partNumber: number;
  readonly lastModified: Date;
  readonly etag: string;
  readonly sizeBytes: number;
  readonly checksums?: ChecksumValues;
}

export interface ListPartsView {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partNumberMarker: number;
  readonly nextPartNumberMarker: number;
  readonly maxParts: number;
  readonly isTruncated: boolean;
  readonly parts: readonly PartView[];
  readonly initiator: OwnerView;
  readonly owner: OwnerView;
  readonly storageClass: string;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

export function renderListPartsResult(view: ListPartsView): string {
  return xmlDocument('ListPartsResult', [
    xmlElement('Bucket', view.bucket),
    xmlElement('Key', view.key),
    xmlElement('UploadId', view.uploadId),
    xmlElement('PartNumberMarker', String(view.partNumberMarker)),
    xmlElement('NextPartNumberMarker', String(view.nextPartNumberMarker)),
    xmlElement('MaxParts', String(view.maxParts)),
    xmlElement('IsTruncated', String(view.isTruncated)),
    ...view.parts.map((part) =>
      xmlNode('Part', [
        xmlElement('PartNumber', String(part.partNumber)),
        xmlElement('LastModified', s3Timestamp(part.lastModified)),
        xmlElement('ETag', quoteEtag(part.etag)),
        xmlElement('Size', String(part.sizeBytes)),
        ...renderChecksumElements(part.checksums),
      ]),
    ),
    renderOwner('Initiator', view.initiator),
    renderOwner('Owner', view.owner),
    xmlElement('StorageClass', view.storageClass),
    optionalElement('ChecksumAlgorithm', view.checksumAlgorithm),
  ]);
}

export interface UploadView {
  readonly key: string;
  readonly uploadId: string;
  readonly initiator: OwnerView;
  readonly owner: OwnerView;
  readonly storageClass: string;
  readonly initiated: Date;
}

export interface ListMultipartUploadsView {
  readonly bucket: string;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
  readonly nextKeyMarker: string;
  readonly nextUploadIdMarker: string;
  readonly prefix: string;
  readonly delimiter?: string;
  readonly maxUploads: number;
  readonly isTruncated: boolean;
  readonly uploads: readonly UploadView[];
  readonly commonPrefixes: readonly string[];
  readonly encodingType?: EncodingType;
}

export function renderListMultipartUploadsResult(view: ListMultipartUploadsView): string {
  const encode = encoder(view.encodingType);
  return xmlDocument('ListMultipartUploadsResult', [
    xmlElement('Bucket', view.bucket),
    xmlElement('KeyMarker', encode(view.keyMarker)),
    xmlElement('UploadIdMarker', view.uploadIdMarker),
    xmlElement('NextKeyMarker', encode(view.nextKeyMarker)),
    xmlElement('NextUploadIdMarker', view.nextUploadIdMarker),
    view.delimiter === undefined ? undefined : xmlElement('Delimiter', encode(view.delimiter)),
    xmlElement('Prefix', encode(view.prefix)),
    xmlElement('MaxUploads', String(view.maxUploads)),
    xmlElement('IsTruncated', String(view.isTruncated)),
    ...view.uploads.map((upload) =>
      xmlNode('Upload', [
        xmlElement('Key', encode(upload.key)),
        xmlElement('UploadId', upload.uploadId),
        renderOwner('Initiator', upload.initiator),
        renderOwner('Owner', upload.owner),
        xmlElement('StorageClass', upload.storageClass),
        xmlElement('Initiated', s3Timestamp(upload.initiated)),
      ]),
    ),
    ...renderCommonPrefixes(view.commonPrefixes, encode),
    optionalElement('EncodingType', view.encodingType),
  ]);
}
