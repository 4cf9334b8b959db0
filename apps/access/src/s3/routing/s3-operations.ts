/** Every S3 operation the gateway serves. */
export const S3_OPERATIONS = [
  'ListBuckets',
  'CreateBucket',
  'DeleteBucket',
  'HeadBucket',
  'GetBucketLocation',
  'GetBucketVersioning',
  'PutBucketVersioning',
  'GetBucketTagging',
  'PutBucketTagging',
  'DeleteBucketTagging',
  'GetBucketAcl',
  'PutBucketAcl',
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketCors',
  'PutBucketCors',
  'DeleteBucketCors',
  'GetBucketLifecycleConfiguration',
  'PutBucketLifecycleConfiguration',
  'DeleteBucketLifecycle',
  /** OPTIONS on a bucket or object: a browser's CORS preflight, answered without a signature. */
  'PreflightCors',
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'ListMultipartUploads',
  'DeleteObjects',
  'PutObject',
  /** POST to a bucket with multipart/form-data: a browser-based upload signed by a policy document. */
  'PostObject',
  'CopyObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'GetObjectTagging',
  'PutObjectTagging',
  'DeleteObjectTagging',
  'GetObjectAcl',
  'PutObjectAcl',
] as const;

export type S3Operation = (typeof S3_OPERATIONS)[number];

/** Operations on the service, on a bucket, or on an object (needs a key). */
export type S3OperationScope = 'service' | 'bucket' | 'object';

/**
 * Subresources S3 knows but Cairn does not serve: a request naming one gets NotImplemented rather
 * than being mistaken for a plain GET/PUT of the bucket or object.
 */
export const UNSUPPORTED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate',
  'analytics',
  'attributes',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'logging',
  'metadataConfiguration',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'publicAccessBlock',
  'renameObject',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'torrent',
  'website',
]);
