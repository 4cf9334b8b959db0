import type { Checksums, ContentHeaderName, ContentHeaders, ObjectVersionView, Tag, UploadChecksum, UserMetadata, VersioningStatus } from '@cairn/protocol';
import { ContentHeaderNames, MetadataLimits, UPLOAD_CHECKSUM_TYPES } from '@cairn/protocol';
import { S3Error, parseChecksumAlgorithm, quoteEtag, type ChecksumAlgorithm, type HeaderBag } from '../s3';

const USER_METADATA_PREFIX = 'x-amz-meta-';
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** response-* query parameters of a signed GetObject and the header each overrides. */
export const RESPONSE_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

/** What a response-* override may hold: tab and printable ASCII. Anything else is InvalidArgument. */
const RESPONSE_OVERRIDE_VALUE_PATTERN = /^[\t\x20-\x7e]*$/;
/** What Node writes as a header value (its own check): tab, printable ASCII and Latin-1 bytes. */
const SENDABLE_HEADER_VALUE_PATTERN = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The headers a GET or HEAD's `response-*` parameters override. A value Node could not send (CR,
 * LF, other controls) or that is not ASCII is the client's error, 400, not a failed setHeader.
 */
export function responseOverridesFrom(query: (name: string) => string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, header] of RESPONSE_OVERRIDES) {
    const value = query(name);
    if (value === undefined) continue;
    if (!RESPONSE_OVERRIDE_VALUE_PATTERN.test(value)) {
      throw new S3Error('InvalidArgument', `${name} may hold only printable ASCII characters.`, { ArgumentName: name });
    }
    headers[header] = value;
  }
  return headers;
}

/**
 * A header value as it can go out. Values from request headers always can (Node reads them as
 * Latin-1, so UTF-8 bytes round-trip); anything else — a control character, text beyond Latin-1 —
 * is sent RFC 2047-encoded, as S3 returns non-ASCII metadata, so a stored value can never make a
 * GET or HEAD fail.
 */
export function sendableHeaderValue(value: string): string {
  if (SENDABLE_HEADER_VALUE_PATTERN.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Every value of a header record made sendable (see sendableHeaderValue); S3Exchange.writeHead sends only these. */
export function sendableHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const sendable: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) sendable[name] = sendableHeaderValue(value);
  return sendable;
}

/** How GET and HEAD spell each stored content header. */
const CONTENT_HEADER_RESPONSE_NAMES: Readonly<Record<ContentHeaderName, string>> = {
  'cache-control': 'Cache-Control',
  'content-disposition': 'Content-Disposition',
  'content-encoding': 'Content-Encoding',
  'content-language': 'Content-Language',
  expires: 'Expires',
  'x-amz-website-redirect-location': 'x-amz-website-redirect-location',
};

/** The Content-Encoding of a streaming (chunk-signed or trailer) upload; it describes the request, not the object. */
const AWS_CHUNKED_ENCODING = 'aws-chunked';

const CHECKSUM_FIELDS: ReadonlyArray<readonly [ChecksumAlgorithm, keyof Checksums]> = [
  ['CRC32', 'crc32'],
  ['CRC32C', 'crc32c'],
  ['CRC64NVME', 'crc64nvme'],
  ['SHA1', 'sha1'],
  ['SHA256', 'sha256'],
];

/** `x-amz-meta-*` headers as user metadata (names lower-case, prefix removed), within S3's 2 KB. */
export function userMetadataFrom(headers: HeaderBag): UserMetadata {
  const metadata: Record<string, string> = {};
  let sizeBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(USER_METADATA_PREFIX) || value === undefined) continue;
    const key = name.slice(USER_METADATA_PREFIX.length);
    const text = decodeMetadataValue(typeof value === 'string' ? value : value.join(','));
    metadata[key] = text;
    sizeBytes += Buffer.byteLength(key) + Buffer.byteLength(text);
  }
  if (sizeBytes > MetadataLimits.userMetadataMaxBytes) {
    throw new S3Error('MetadataTooLarge', undefined, { MaxSizeAllowed: String(MetadataLimits.userMetadataMaxBytes), Size: String(sizeBytes) });
  }
  return metadata;
}

const ENCODED_WORD_PATTERN = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const BETWEEN_ENCODED_WORDS_PATTERN = /(\?=)\s+(?==\?)/g;
const PRINTABLE_ASCII_PATTERN = /^[\x20-\x7e]*$/;
const LATIN1_MAX_CODE = 0xff;

/**
 * A user metadata value as the client meant it (S3 decodes non-ASCII values before storing them):
 * RFC 2047 encoded-words in UTF-8 (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) decoded, and raw UTF-8 bytes,
 * which Node hands over as Latin-1 text, read as UTF-8. Anything else is kept as sent.
 */
export function decodeMetadataValue(raw: string): string {
  if (raw.includes('=?')) {
    return raw.replace(BETWEEN_ENCODED_WORDS_PATTERN, '$1').replace(ENCODED_WORD_PATTERN, (word, charset: string, encoding: string, text: string) => {
      if (charset.toLowerCase() !== 'utf-8') return word;
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      return bytes.toString('utf8');
    });
  }
  if (!PRINTABLE_ASCII_PATTERN.test(raw) && [...raw].every((ch) => ch.charCodeAt(0) <= LATIN1_MAX_CODE)) {
    const text = Buffer.from(raw, 'latin1').toString('utf8');
    if (!text.includes('\uFFFD')) return text;
  }
  return raw;
}

/** A stored metadata value as a header: non-ASCII values as one RFC 2047 UTF-8 encoded-word, as S3 returns them. */
export function encodeMetadataValue(value: string): string {
  return PRINTABLE_ASCII_PATTERN.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * The standard content headers S3 stores with an object (Cache-Control, Content-Disposition,
 * Content-Encoding, Content-Language, Expires, x-amz-website-redirect-location), as given on the
 * write. `aws-chunked` is dropped from Content-Encoding as S3 drops it: `aws-chunked,gzip` stores
 * `gzip`, and `aws-chunked` alone stores no Content-Encoding.
 */
export function contentHeadersFrom(headers: HeaderBag): ContentHeaders {
  const stored: Partial<Record<ContentHeaderName, string>> = {};
  for (const name of ContentHeaderNames) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const text = (typeof raw === 'string' ? raw : raw.join(',')).trim();
    const value = name === 'content-encoding' ? withoutAwsChunked(text) : text;
    if (value !== '') stored[name] = value;
  }
  return stored;
}

function withoutAwsChunked(contentEncoding: string): string {
  return contentEncoding
    .split(',')
    .map((encoding) => encoding.trim())
    .filter((encoding) => encoding !== '' && encoding.toLowerCase() !== AWS_CHUNKED_ENCODING)
    .join(',');
}

/** The `x-amz-tagging` header: URL-encoded `k=v&k2=v2`. */
export function tagsFromHeader(value: string | undefined): readonly Tag[] | undefined {
  if (value === undefined) return undefined;
  const tags = [...new URLSearchParams(value)].map(([key, tagValue]) => ({ key, value: tagValue }));
  if (tags.length > MetadataLimits.objectTagsMax) throw new S3Error('InvalidTag', `Object tags cannot be greater than ${MetadataLimits.objectTagsMax}`);
  return tags;
}

/** Checksums computed (raw bytes) or named by a client (base64), as metadata stores them. */
export function toChecksums(values: Readonly<Partial<Record<ChecksumAlgorithm, Buffer | string>>>): Checksums {
  const checksums: Record<string, string> = {};
  for (const [algorithm, field] of CHECKSUM_FIELDS) {
    const value = values[algorithm];
    if (value !== undefined) checksums[field] = typeof value === 'string' ? value : value.toString('base64');
  }
  return checksums as Checksums;
}

/**
 * CreateMultipartUpload's x-amz-checksum-algorithm and -type: which checksum the object gets
 * (CRC64NVME is full-object only; the other algorithms default to COMPOSITE, as in S3).
 */
export function uploadChecksumFrom(headers: HeaderBag): UploadChecksum | undefined {
  const algorithmName = headers['x-amz-checksum-algorithm'];
  const typeName = headers['x-amz-checksum-type'];
  if (typeof algorithmName !== 'string') {
    if (typeof typeName === 'string') throw new S3Error('InvalidRequest', 'x-amz-checksum-type needs x-amz-checksum-algorithm');
    return undefined;
  }
  const algorithm = parseChecksumAlgorithm(algorithmName.trim());
  if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
  const field = CHECKSUM_FIELDS.find(([name]) => name === algorithm)![1];
  const allowed = UPLOAD_CHECKSUM_TYPES[field];
  const type = typeof typeName === 'string' ? typeName.trim().toUpperCase() : allowed[0];
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', `Value for x-amz-checksum-type header is invalid.`);
  if (!allowed.includes(type)) {
    throw new S3Error('InvalidRequest', `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  }
  return { algorithm: field, type };
}

/** The response headers naming an upload's checksum, as CreateMultipartUpload answers them. */
export function uploadChecksumHeaders(checksum: UploadChecksum | undefined): Record<string, string> {
  if (!checksum) return {};
  const algorithm = CHECKSUM_FIELDS.find(([, field]) => field === checksum.algorithm)![0];
  return { 'x-amz-checksum-algorithm': algorithm, 'x-amz-checksum-type': checksum.type };
}

/** The x-amz-checksum-* headers of a request that claims checksums of a whole object (CompleteMultipartUpload). */
export function claimedChecksumsFrom(headers: HeaderBag): Checksums {
  const claimed: Record<string, string> = {};
  for (const [algorithm, field] of CHECKSUM_FIELDS) {
    const value = headers[`x-amz-checksum-${algorithm.toLowerCase()}`];
    if (typeof value === 'string') claimed[field] = value.trim();
  }
  return claimed as Checksums;
}

/** Checksums as metadata stores them (a view's are an open record). */
type StoredChecksums = Checksums | Readonly<Record<string, string | undefined>>;

/** Stored checksums keyed by algorithm, as S3's XML results list them. */
export function checksumValuesOf(checksums: StoredChecksums): Partial<Record<ChecksumAlgorithm, string>> {
  const values: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const [algorithm, field] of CHECKSUM_FIELDS) {
    const value = (checksums as Readonly<Record<string, string | undefined>>)[field];
    if (value) values[algorithm] = value;
  }
  return values;
}

/** A multipart object's checksums are composite (`<base64>-<parts>`), anything else's of the whole object. */
export function checksumTypeOf(checksums: StoredChecksums): 'COMPOSITE' | 'FULL_OBJECT' | undefined {
  const values = Object.values(checksums).filter((v): v is string => Boolean(v));
  if (values.length === 0) return undefined;
  return values.some((v) => v.includes('-')) ? 'COMPOSITE' : 'FULL_OBJECT';
}

/** Stored checksums as S3 response headers (`x-amz-checksum-crc32: <base64>`). */
export function checksumHeadersOf(checksums: StoredChecksums): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [algorithm, value] of Object.entries(checksumValuesOf(checksums))) headers[`x-amz-checksum-${algorithm.toLowerCase()}`] = value;
  const type = checksumTypeOf(checksums);
  if (type) headers['x-amz-checksum-type'] = type;
  return headers;
}

/** S3 names versions only in buckets that have had versioning on. */
export function versionIdHeader(versioning: VersioningStatus, versionId: string | undefined): Record<string, string> {
  return versionId !== undefined && versioning !== 'Unversioned' ? { 'x-amz-version-id': versionId } : {};
}

export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/** The headers of GetObject / HeadObject for a version (length and range are the caller's). */
export function objectHeaders(view: ObjectVersionView, versioning: VersioningStatus): Record<string, string> {
  const headers: Record<string, string> = {
    ETag: quoteEtag(view.etag ?? ''),
    'Last-Modified': httpDate(view.lastModified),
    'Content-Type': view.contentType ?? DEFAULT_CONTENT_TYPE,
    'Accept-Ranges': 'bytes',
    ...versionIdHeader(versioning, view.versionId),
  };
  if (view.storageClass && view.storageClass !== 'STANDARD') headers['x-amz-storage-class'] = view.storageClass;
  if (view.tags.length > 0) headers['x-amz-tagging-count'] = String(view.tags.length);
  for (const name of ContentHeaderNames) {
    const value = view.contentHeaders[name];
    if (value !== undefined) headers[CONTENT_HEADER_RESPONSE_NAMES[name]] = value;
  }
  for (const [name, value] of Object.entries(view.userMetadata)) headers[`x-amz-meta-${name}`] = encodeMetadataValue(value);
  return headers;
}

/** Only `*` is a conditional-write If-None-Match S3 accepts. */
export function writeConditionsFrom(headers: HeaderBag): { ifMatch?: string; ifNoneMatch?: '*' } {
  const ifNoneMatch = typeof headers['if-none-match'] === 'string' ? headers['if-none-match'].trim() : undefined;
  const ifMatch = typeof headers['if-match'] === 'string' ? headers['if-match'].trim() : undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch !== '*') throw new S3Error('NotImplemented', 'If-None-Match on writes supports only "*".', { Header: 'If-None-Match' });
  return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch === '*' ? { ifNoneMatch: '*' as const } : {}) };
}
