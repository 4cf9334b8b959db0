/**
 * The S3 action names a bucket policy may name, with the kind of resource each applies to (S3
 * refuses a statement whose actions apply to none of its resources). Matching is case-insensitive;
 * the names are kept as AWS spells them.
 */
export type S3ActionResourceKind = 'bucket' | 'object' | 'account';

const OBJECT_ACTIONS = [
  'AbortMultipartUpload',
  'BypassGovernanceRetention',
  'DeleteObject',
  'DeleteObjectTagging',
  'DeleteObjectVersion',
  'DeleteObjectVersionTagging',
  'GetObject',
  'GetObjectAcl',
  'GetObjectAttributes',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'GetObjectTorrent',
  'GetObjectVersion',
  'GetObjectVersionAcl',
  'GetObjectVersionAttributes',
  'GetObjectVersionForReplication',
  'GetObjectVersionTagging',
  'GetObjectVersionTorrent',
  'InitiateReplication',
  'ListMultipartUploadParts',
  'ObjectOwnerOverrideToBucketOwner',
  'PutObject',
  'PutObjectAcl',
  'PutObjectLegalHold',
  'PutObjectRetention',
  'PutObjectTagging',
  'PutObjectVersionAcl',
  'PutObjectVersionTagging',
  'ReplicateDelete',
  'ReplicateObject',
  'ReplicateTags',
  'RestoreObject',
] as const;

const BUCKET_ACTIONS = [
  'CreateBucket',
  'DeleteBucket',
  'DeleteBucketOwnershipControls',
  'DeleteBucketPolicy',
  'DeleteBucketWebsite',
  'GetAccelerateConfiguration',
  'GetAnalyticsConfiguration',
  'GetBucketAcl',
  'GetBucketCORS',
  'GetBucketLocation',
  'GetBucketLogging',
  'GetBucketNotification',
  'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls',
  'GetBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock',
  'GetBucketRequestPayment',
  'GetBucketTagging',
  'GetBucketVersioning',
  'GetBucketWebsite',
  'GetEncryptionConfiguration',
  'GetIntelligentTieringConfiguration',
  'GetInventoryConfiguration',
  'GetLifecycleConfiguration',
  'GetMetricsConfiguration',
  'GetReplicationConfiguration',
  'ListBucket',
  'ListBucketMultipartUploads',
  'ListBucketVersions',
  'PutAccelerateConfiguration',
  'PutAnalyticsConfiguration',
  'PutBucketAcl',
  'PutBucketCORS',
  'PutBucketLogging',
  'PutBucketNotification',
  'PutBucketObjectLockConfiguration',
  'PutBucketOwnershipControls',
  'PutBucketPolicy',
  'PutBucketPublicAccessBlock',
  'PutBucketRequestPayment',
  'PutBucketTagging',
  'PutBucketVersioning',
  'PutBucketWebsite',
  'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration',
  'PutInventoryConfiguration',
  'PutLifecycleConfiguration',
  'PutMetricsConfiguration',
  'PutReplicationConfiguration',
] as const;

const ACCOUNT_ACTIONS = ['ListAllMyBuckets', 'GetAccountPublicAccessBlock', 'PutAccountPublicAccessBlock'] as const;

export type S3ActionName = (typeof OBJECT_ACTIONS)[number] | (typeof BUCKET_ACTIONS)[number] | (typeof ACCOUNT_ACTIONS)[number];

/** `s3:<name>` → its resource kind, keyed by the lower-cased full action. */
export const S3_POLICY_ACTIONS: ReadonlyMap<string, { readonly action: string; readonly kind: S3ActionResourceKind }> = new Map(
  [
    ...OBJECT_ACTIONS.map((name) => [name, 'object'] as const),
    ...BUCKET_ACTIONS.map((name) => [name, 'bucket'] as const),
    ...ACCOUNT_ACTIONS.map((name) => [name, 'account'] as const),
  ].map(([name, kind]) => [`s3:${name}`.toLowerCase(), { action: `s3:${name}`, kind }]),
);
