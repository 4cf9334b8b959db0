import { isValidBucketName } from '@cairn/protocol';
import { S3Error } from '../errors/s3.errors';
import type { HeaderBag } from '../auth/canonical-request';
import { hasQueryParam, percentDecode, queryValue, type RequestTarget } from './request-target';
import { UNSUPPORTED_SUBRESOURCES, type S3Operation } from './s3-operations';
import { MAX_KEY_LENGTH_BYTES, MAX_PART_NUMBER, MIN_PART_NUMBER } from '../s3-limits';


export interface RoutingConfig {
  /**
   * Host names the gateway answers on (e.g. `s3.cairn.test`, `localhost`): a request to
   * `<bucket>.<base domain>` is virtual-hosted-style; anything else is path-style.
   */
  readonly baseDomains: readonly string[];
}

export interface RouteInput {
  readonly method: string;
  readonly host: string | undefined;
  readonly target: RequestTarget;
  readonly headers: HeaderBag;
}

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface S3Route {
  readonly operation: S3Operation;
  readonly style: 'path' | 'virtual-host';
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  readonly uploadId?: string;
  readonly partNumber?: number;
  readonly copySource?: CopySource;
}

function hostWithoutPort(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1);
  const colon = trimmed.lastIndexOf(':');
  return colon === -1 ? trimmed : trimmed.slice(0, colon);
}

/** The bucket named by a virtual-hosted-style Host header, if the host is `<bucket>.<base domain>`. */
export function virtualHostBucket(host: string | undefined, baseDomains: readonly string[]): string | undefined {
  if (host === undefined) return undefined;
  const name = hostWithoutPort(host);
  const longestFirst = [...baseDomains].map((domain) => domain.toLowerCase()).sort((a, b) => b.length - a.length);
  for (const domain of longestFirst) {
    if (name === domain) return undefined;
    if (name.endsWith(`.${domain}`)) return name.slice(0, -(domain.length + 1));
  }
  return undefined;
}

export function checkKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_LENGTH_BYTES) {
    throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: String(MAX_KEY_LENGTH_BYTES), Size: String(Buffer.byteLength(key, 'utf8')) });
  }
}

function checkBucket(bucket: string): void {
  if (!isValidBucketName(bucket)) throw new S3Error('InvalidBucketName', undefined, { BucketName: bucket });
}

function parsePartNumber(text: string): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= MIN_PART_NUMBER && value <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between ${MIN_PART_NUMBER} and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: text,
    });
  }
  return value;
}

/** Parses `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, URL-encoded (`+` stays a plus). */
export function parseCopySource(header: string): CopySource {
  const invalid = () =>
    new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  let text = header.trim();
  let versionId: string | undefined;
  const question = text.indexOf('?');
  if (question !== -1) {
    const query = text.slice(question + 1);
    text = text.slice(0, question);
    if (!query.startsWith('versionId=')) throw invalid();
    versionId = percentDecode(query.slice('versionId='.length));
    if (versionId === '') throw invalid();
  }
  const decoded = percentDecode(text);
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalid();
  const bucket = path.slice(0, slash);
  const key = path.slice(slash + 1);
  checkBucket(bucket);
  checkKey(key);
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId };
}

function singleHeader(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value[0];
}

function notImplemented(what: string): S3Error {
  return new S3Error('NotImplemented', `${what} is not implemented by Cairn.`);
}

function methodNotAllowed(method: string): S3Error {
  return new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' });
}

/**
 * Maps an HTTP request to the S3 operation it asks for, its bucket and its key. Pure: it reads only
 * the request line, the Host header and `x-amz-copy-source`.
 */
export function routeS3Request(input: RouteInput, config: RoutingConfig): S3Route {
  const method = input.method.toUpperCase();
  const { query } = input.target;
  const hostBucket = virtualHostBucket(input.host, config.baseDomains);
  const style = hostBucket === undefined ? 'path' : 'virtual-host';

  let bucket: string | undefined;
  let key: string | undefined;
  const path = input.target.path;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    key = path.length > 1 ? path.slice(1) : undefined;
  } else {
    const rest = path.slice(1);
    const slash = rest.indexOf('/');
    bucket = rest === '' ? undefined : slash === -1 ? rest : rest.slice(0, slash);
    const keyPart = slash === -1 ? '' : rest.slice(slash + 1);
    key = keyPart === '' ? undefined : keyPart;
  }

  const unsupported = query.find((param) => UNSUPPORTED_SUBRESOURCES.has(param.name));
  if (unsupported) throw notImplemented(`The ${unsupported.name} subresource`);

  if (bucket === undefined) {
    if (method === 'GET') return { operation: 'ListBuckets', style };
    throw methodNotAllowed(method);
  }
  checkBucket(bucket);
  if (key !== undefined) checkKey(key);

  const has = (name: string) => hasQueryParam(query, name);
  const versionId = queryValue(query, 'versionId');
  // The version an object operation names. `?versionId=` names none: S3 refuses it rather than
  // acting on the current version (a DeleteObject would add a delete marker, not remove a version).
  const version = (): { readonly versionId?: string } => {
    if (versionId === '') throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', { ArgumentName: 'versionId', ArgumentValue: '' });
    return versionId === undefined ? {} : { versionId };
  };

  if (key === undefined) {
    const base = { style, bucket } as const;
    switch (method) {
      case 'GET':
        if (has('location')) return { ...base, operation: 'GetBucketLocation' };
        if (has('versioning')) return { ...base, operation: 'GetBucketVersioning' };
        if (has('versions')) return { ...base, operation: 'ListObjectVersions' };
        if (has('uploads')) return { ...base, operation: 'ListMultipartUploads' };
        if (has('tagging')) return { ...base, operation: 'GetBucketTagging' };
        if (has('acl')) return { ...base, operation: 'GetBucketAcl' };
        if (has('policy')) return { ...base, operation: 'GetBucketPolicy' };
        if (has('policyStatus')) return { ...base, operation: 'GetBucketPolicyStatus' };
        if (has('cors')) return { ...base, operation: 'GetBucketCors' };
        if (has('ownershipControls')) return { ...base, operation: 'GetBucketOwnershipControls' };
        if (has('publicAccessBlock')) return { ...base, operation: 'GetPublicAccessBlock' };
        if (has('lifecycle')) return { ...base, operation: 'GetBucketLifecycleConfiguration' };
        if (has('encryption')) return { ...base, operation: 'GetBucketEncryption' };
        if (has('object-lock')) return { ...base, operation: 'GetObjectLockConfiguration' };
        if (has('list-type')) {
          if (queryValue(query, 'list-type') !== '2') throw new S3Error('InvalidArgument', 'Invalid List Type specified', { ArgumentName: 'list-type' });
          return { ...base, operation: 'ListObjectsV2' };
        }
        return { ...base, operation: 'ListObjects' };
      case 'HEAD':
        return { ...base, operation: 'HeadBucket' };
      case 'PUT':
        if (has('versioning')) return { ...base, operation: 'PutBucketVersioning' };
        if (has('tagging')) return { ...base, operation: 'PutBucketTagging' };
        if (has('acl')) return { ...base, operation: 'PutBucketAcl' };
        if (has('policy')) return { ...base, operation: 'PutBucketPolicy' };
        if (has('cors')) return { ...base, operation: 'PutBucketCors' };
        if (has('ownershipControls')) return { ...base, operation: 'PutBucketOwnershipControls' };
        if (has('publicAccessBlock')) return { ...base, operation: 'PutPublicAccessBlock' };
        if (has('lifecycle')) return { ...base, operation: 'PutBucketLifecycleConfiguration' };
        if (has('encryption')) return { ...base, operation: 'PutBucketEncryption' };
        if (has('object-lock')) return { ...base, operation: 'PutObjectLockConfiguration' };
        return { ...base, operation: 'CreateBucket' };
      case 'DELETE':
        if (has('tagging')) return { ...base, operation: 'DeleteBucketTagging' };
        if (has('policy')) return { ...base, operation: 'DeleteBucketPolicy' };
        if (has('cors')) return { ...base, operation: 'DeleteBucketCors' };
        if (has('ownershipControls')) return { ...base, operation: 'DeleteBucketOwnershipControls' };
        if (has('publicAccessBlock')) return { ...base, operation: 'DeletePublicAccessBlock' };
        if (has('lifecycle')) return { ...base, operation: 'DeleteBucketLifecycle' };
        if (has('encryption')) return { ...base, operation: 'DeleteBucketEncryption' };
        return { ...base, operation: 'DeleteBucket' };
      case 'POST':
        if (has('delete')) return { ...base, operation: 'DeleteObjects' };
        // A browser-based upload: the form (policy, signature, fields, file) is the request.
        if (/^multipart\/form-data\s*(;|$)/i.test(singleHeader(input.headers, 'content-type') ?? '')) return { ...base, operation: 'PostObject' };
        // A client's mistake, answered as S3 answers it (412 naming the condition), not 501.
        throw new S3Error('PreconditionFailed', undefined, { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
      case 'OPTIONS':
        return { ...base, operation: 'PreflightCors' };
      default:
        throw methodNotAllowed(method);
    }
  }

  const base = { style, bucket, key } as const;
  const uploadId = queryValue(query, 'uploadId');
  const partNumberText = queryValue(query, 'partNumber');
  const copySourceHeader = singleHeader(input.headers, 'x-amz-copy-source');

  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (method === 'GET' && uploadId !== undefined) return { ...base, operation: 'ListParts', uploadId };
      if (method === 'GET' && has('tagging')) return { ...base, ...version(), operation: 'GetObjectTagging' };
      if (method === 'GET' && has('acl')) return { ...base, ...version(), operation: 'GetObjectAcl' };
      if (method === 'GET' && has('attributes')) return { ...base, ...version(), operation: 'GetObjectAttributes' };
      if (method === 'GET' && has('retention')) return { ...base, ...version(), operation: 'GetObjectRetention' };
      if (method === 'GET' && has('legal-hold')) return { ...base, ...version(), operation: 'GetObjectLegalHold' };
      const partNumber = partNumberText === undefined ? {} : { partNumber: parsePartNumber(partNumberText) };
      return { ...base, ...version(), ...partNumber, operation: method === 'GET' ? 'GetObject' : 'HeadObject' };
    }
    case 'PUT': {
      if (partNumberText !== undefined || uploadId !== undefined) {
        if (partNumberText === undefined || uploadId === undefined) {
          throw new S3Error('InvalidArgument', 'Upload a part with both partNumber and uploadId.', { ArgumentName: partNumberText === undefined ? 'partNumber' : 'uploadId' });
        }
        const partNumber = parsePartNumber(partNumberText);
        if (copySourceHeader !== undefined) {
          return { ...base, operation: 'UploadPartCopy', uploadId, partNumber, copySource: parseCopySource(copySourceHeader) };
        }
        return { ...base, operation: 'UploadPart', uploadId, partNumber };
      }
      if (has('tagging')) return { ...base, ...version(), operation: 'PutObjectTagging' };
      if (has('acl')) return { ...base, ...version(), operation: 'PutObjectAcl' };
      if (has('retention')) return { ...base, ...version(), operation: 'PutObjectRetention' };
      if (has('legal-hold')) return { ...base, ...version(), operation: 'PutObjectLegalHold' };
      if (copySourceHeader !== undefined) return { ...base, operation: 'CopyObject', copySource: parseCopySource(copySourceHeader) };
      return { ...base, operation: 'PutObject' };
    }
    case 'DELETE':
      if (uploadId !== undefined) return { ...base, operation: 'AbortMultipartUpload', uploadId };
      if (has('tagging')) return { ...base, ...version(), operation: 'DeleteObjectTagging' };
      return { ...base, ...version(), operation: 'DeleteObject' };
    case 'POST':
      if (has('uploads')) return { ...base, operation: 'CreateMultipartUpload' };
      if (uploadId !== undefined) return { ...base, operation: 'CompleteMultipartUpload', uploadId };
      throw methodNotAllowed(method);
    case 'OPTIONS':
      return { ...base, operation: 'PreflightCors' };
    default:
      throw methodNotAllowed(method);
  }
}
