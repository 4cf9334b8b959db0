import type { PolicyContextValue } from '@cairn/protocol';
import type { S3Operation } from '../../s3/routing/s3-operations';

/**
 * What a bucket policy is asked about one S3 request: the IAM action each operation is authorized
 * as, on which resource. Pure: the gateway supplies the route and the request's facts.
 */
export interface PolicyTarget {
  readonly action: string;
  readonly resource: string;
}

export interface OperationFacts {
  readonly operation: S3Operation;
  readonly bucket: string;
  readonly key?: string;
  readonly versionId?: string;
}

/** The operations authorized on the object (`arn:aws:s3:::bucket/key`); the rest on the bucket. */
const OBJECT_ACTIONS: Partial<Record<S3Operation, { readonly action: string; readonly versioned?: string }>> = {
  PutObject: { action: 's3:PutObject' },
  PostObject: { action: 's3:PutObject' },
  CopyObject: { action: 's3:PutObject' },
  GetObject: { action: 's3:GetObject', versioned: 's3:GetObjectVersion' },
  HeadObject: { action: 's3:GetObject', versioned: 's3:GetObjectVersion' },
  DeleteObject: { action: 's3:DeleteObject', versioned: 's3:DeleteObjectVersion' },
  CreateMultipartUpload: { action: 's3:PutObject' },
  UploadPart: { action: 's3:PutObject' },
  UploadPartCopy: { action: 's3:PutObject' },
  CompleteMultipartUpload: { action: 's3:PutObject' },
  AbortMultipartUpload: { action: 's3:AbortMultipartUpload' },
  ListParts: { action: 's3:ListMultipartUploadParts' },
  GetObjectTagging: { action: 's3:GetObjectTagging', versioned: 's3:GetObjectVersionTagging' },
  PutObjectTagging: { action: 's3:PutObjectTagging', versioned: 's3:PutObjectVersionTagging' },
  DeleteObjectTagging: { action: 's3:DeleteObjectTagging', versioned: 's3:DeleteObjectVersionTagging' },
  GetObjectAcl: { action: 's3:GetObjectAcl', versioned: 's3:GetObjectVersionAcl' },
  GetObjectAttributes: { action: 's3:GetObjectAttributes', versioned: 's3:GetObjectVersionAttributes' },
  PutObjectAcl: { action: 's3:PutObjectAcl', versioned: 's3:PutObjectVersionAcl' },
  GetObjectRetention: { action: 's3:GetObjectRetention' },
  PutObjectRetention: { action: 's3:PutObjectRetention' },
  GetObjectLegalHold: { action: 's3:GetObjectLegalHold' },
  PutObjectLegalHold: { action: 's3:PutObjectLegalHold' },
};

const BUCKET_ACTIONS: Partial<Record<S3Operation, string>> = {
  ListBuckets: 's3:ListAllMyBuckets',
  CreateBucket: 's3:CreateBucket',
  DeleteBucket: 's3:DeleteBucket',
  HeadBucket: 's3:ListBucket',
  /** Before its form names a key; the gateway authorizes the upload itself on the object (see PostObject above). */
  PostObject: 's3:PutObject',
  GetBucketLocation: 's3:GetBucketLocation',
  GetBucketVersioning: 's3:GetBucketVersioning',
  PutBucketVersioning: 's3:PutBucketVersioning',
  GetBucketTagging: 's3:GetBucketTagging',
  PutBucketTagging: 's3:PutBucketTagging',
  DeleteBucketTagging: 's3:PutBucketTagging',
  GetBucketAcl: 's3:GetBucketAcl',
  PutBucketAcl: 's3:PutBucketAcl',
  GetBucketPolicy: 's3:GetBucketPolicy',
  PutBucketPolicy: 's3:PutBucketPolicy',
  DeleteBucketPolicy: 's3:DeleteBucketPolicy',
  GetBucketPolicyStatus: 's3:GetBucketPolicyStatus',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  GetBucketOwnershipControls: 's3:GetBucketOwnershipControls',
  PutBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  GetObjectLockConfiguration: 's3:GetBucketObjectLockConfiguration',
  PutObjectLockConfiguration: 's3:PutBucketObjectLockConfiguration',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
};

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

/**
 * The action and resource an operation is authorized as; undefined for DeleteObjects, which S3
 * decides key by key (s3:DeleteObject on each object: a refused key is an AccessDenied entry in
 * the DeleteResult, not a refused request).
 */
export function policyTargetOf(facts: OperationFacts): PolicyTarget | undefined {
  // A CORS preflight is unsigned by nature and answered by the CORS configuration alone.
  if (facts.operation === 'DeleteObjects' || facts.operation === 'PreflightCors') return undefined;
  const onObject = OBJECT_ACTIONS[facts.operation];
  if (onObject && facts.key !== undefined) {
    return { action: facts.versionId !== undefined && onObject.versioned ? onObject.versioned : onObject.action, resource: objectArn(facts.bucket, facts.key) };
  }
  return { action: BUCKET_ACTIONS[facts.operation] ?? `s3:${facts.operation}`, resource: bucketArn(facts.bucket) };
}

/** The reading half of a copy: the source object, as s3:GetObject (or GetObjectVersion). */
export function copySourceTargetOf(source: { readonly bucket: string; readonly key: string; readonly versionId?: string }): PolicyTarget {
  return { action: source.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn(source.bucket, source.key) };
}

/** What the gateway knows of a request, for its condition context. */
export interface RequestFacts {
  readonly sourceIp?: string;
  readonly secureTransport: boolean;
  readonly nowMs: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** How the request was authenticated: `header` (Authorization), `presigned`, or none. */
  readonly auth?: 'header' | 'presigned';
  /** The account (owner name) the key acts for, and the key; absent for anonymous requests. */
  readonly account?: string;
  readonly accessKeyId?: string;
  readonly operation: S3Operation;
  readonly versionId?: string;
}

const LISTING_OPERATIONS: ReadonlySet<S3Operation> = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads']);
/** Request headers S3 offers as `s3:<header>` condition keys. */
const HEADER_KEYS = [
  'x-amz-acl',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'x-amz-server-side-encryption',
  'x-amz-storage-class',
  'x-amz-content-sha256',
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
  'x-amz-website-redirect-location',
  'x-amz-object-ownership',
] as const;

/**
 * The request context conditions are evaluated against. Global keys: aws:SourceIp (the peer
 * address; no proxy header is trusted), aws:SecureTransport, aws:CurrentTime, aws:EpochTime,
 * aws:Referer, aws:UserAgent, aws:PrincipalType, and for signed requests aws:username,
 * aws:userid, aws:PrincipalAccount. S3 keys: s3:prefix, s3:delimiter, s3:max-keys on listings,
 * s3:VersionId, s3:authType, s3:signatureversion and the request headers in HEADER_KEYS.
 * Keys that need another read (s3:ExistingObjectTag, s3:RequestObjectTag) are not filled.
 */
export function policyContextOf(facts: RequestFacts): Record<string, PolicyContextValue> {
  const context: Record<string, PolicyContextValue> = {
    'aws:SecureTransport': facts.secureTransport ? 'true' : 'false',
    'aws:CurrentTime': new Date(facts.nowMs).toISOString(),
    'aws:EpochTime': String(Math.floor(facts.nowMs / 1000)),
    'aws:PrincipalType': facts.account === undefined ? 'Anonymous' : 'Account',
  };
  if (facts.sourceIp !== undefined) context['aws:SourceIp'] = facts.sourceIp;
  const referer = facts.headers['referer'];
  if (referer !== undefined) context['aws:Referer'] = referer;
  const userAgent = facts.headers['user-agent'];
  if (userAgent !== undefined) context['aws:UserAgent'] = userAgent;
  if (facts.account !== undefined) {
    context['aws:username'] = facts.account;
    context['aws:PrincipalAccount'] = facts.account;
    if (facts.accessKeyId !== undefined) context['aws:userid'] = facts.accessKeyId;
  }
  if (facts.auth !== undefined) {
    context['s3:authType'] = facts.auth === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING';
    context['s3:signatureversion'] = 'AWS4-HMAC-SHA256';
  }
  if (facts.versionId !== undefined) context['s3:VersionId'] = facts.versionId;
  if (LISTING_OPERATIONS.has(facts.operation)) {
    // S3 fills s3:prefix and s3:delimiter only when the request names them.
    for (const name of ['prefix', 'delimiter', 'max-keys'] as const) {
      const value = facts.query[name];
      if (value !== undefined) context[`s3:${name}`] = value;
    }
  }
  for (const name of HEADER_KEYS) {
    const value = facts.headers[name];
    if (value !== undefined) context[`s3:${name}`] = value;
  }
  return context;
}
