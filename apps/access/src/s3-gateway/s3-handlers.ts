import type { S3Operation } from '../s3';
import { BucketAccessHandlers } from './bucket-access.handlers';
import { ObjectAttributesHandlers } from './object-attributes.handlers';
import { BucketCorsHandlers } from './bucket-cors.handlers';
import { BucketLifecycleHandlers } from './bucket-lifecycle.handlers';
import { DataProtectionHandlers } from './data-protection.handlers';
import { BucketPolicyHandlers } from './bucket-policy.handlers';
import { BucketHandlers } from './bucket.handlers';
import type { GatewayDeps } from './gateway-deps';
import { ListingHandlers } from './listing.handlers';
import { MultipartHandlers } from './multipart.handlers';
import { ObjectHandlers } from './object.handlers';
import { PostObjectHandlers } from './post-object.handlers';
import type { S3Handler } from './s3-exchange';

/** Every S3 operation the router names, with its handler: the compiler checks none is missing. */
export function s3Handlers(deps: GatewayDeps): Readonly<Record<S3Operation, S3Handler>> {
  const buckets = new BucketHandlers(deps);
  const objects = new ObjectHandlers(deps);
  const listings = new ListingHandlers(deps);
  const multipart = new MultipartHandlers(deps);
  const policies = new BucketPolicyHandlers(deps);
  const cors = new BucketCorsHandlers(deps);
  const access = new BucketAccessHandlers(deps);
  const attributes = new ObjectAttributesHandlers(deps);
  const lifecycle = new BucketLifecycleHandlers(deps);
  const posts = new PostObjectHandlers(deps);
  const protection = new DataProtectionHandlers(deps);
  return {
    ListBuckets: buckets.listBuckets,
    CreateBucket: buckets.createBucket,
    DeleteBucket: buckets.deleteBucket,
    HeadBucket: buckets.headBucket,
    GetBucketLocation: buckets.getBucketLocation,
    GetBucketVersioning: buckets.getBucketVersioning,
    PutBucketVersioning: buckets.putBucketVersioning,
    GetBucketTagging: buckets.getBucketTagging,
    PutBucketTagging: buckets.putBucketTagging,
    DeleteBucketTagging: buckets.deleteBucketTagging,
    GetBucketAcl: access.getBucketAcl,
    PutBucketAcl: access.putBucketAcl,
    GetBucketOwnershipControls: access.getBucketOwnershipControls,
    PutBucketOwnershipControls: access.putBucketOwnershipControls,
    DeleteBucketOwnershipControls: access.deleteBucketOwnershipControls,
    GetPublicAccessBlock: access.getPublicAccessBlock,
    PutPublicAccessBlock: access.putPublicAccessBlock,
    DeletePublicAccessBlock: access.deletePublicAccessBlock,
    GetBucketPolicy: policies.getBucketPolicy,
    PutBucketPolicy: policies.putBucketPolicy,
    DeleteBucketPolicy: policies.deleteBucketPolicy,
    GetBucketPolicyStatus: policies.getBucketPolicyStatus,
    GetBucketCors: cors.getBucketCors,
    PutBucketCors: cors.putBucketCors,
    DeleteBucketCors: cors.deleteBucketCors,
    PreflightCors: cors.preflightCors,
    GetBucketLifecycleConfiguration: lifecycle.getBucketLifecycle,
    PutBucketLifecycleConfiguration: lifecycle.putBucketLifecycle,
    DeleteBucketLifecycle: lifecycle.deleteBucketLifecycle,
    ListObjects: listings.listObjects,
    ListObjectsV2: listings.listObjectsV2,
    ListObjectVersions: listings.listObjectVersions,
    ListMultipartUploads: listings.listMultipartUploads,
    DeleteObjects: objects.deleteObjects,
    PutObject: objects.putObject,
    PostObject: posts.postObject,
    CopyObject: objects.copyObject,
    GetObject: objects.getObject,
    HeadObject: objects.headObject,
    DeleteObject: objects.deleteObject,
    CreateMultipartUpload: multipart.createMultipartUpload,
    UploadPart: multipart.uploadPart,
    UploadPartCopy: multipart.uploadPartCopy,
    CompleteMultipartUpload: multipart.completeMultipartUpload,
    AbortMultipartUpload: multipart.abortMultipartUpload,
    ListParts: listings.listParts,
    GetObjectTagging: objects.getObjectTagging,
    PutObjectTagging: objects.putObjectTagging,
    GetBucketEncryption: protection.getBucketEncryption,
    PutBucketEncryption: protection.putBucketEncryption,
    DeleteBucketEncryption: protection.deleteBucketEncryption,
    GetObjectLockConfiguration: protection.getObjectLockConfiguration,
    PutObjectLockConfiguration: protection.putObjectLockConfiguration,
    GetObjectRetention: protection.getObjectRetention,
    PutObjectRetention: protection.putObjectRetention,
    GetObjectLegalHold: protection.getObjectLegalHold,
    PutObjectLegalHold: protection.putObjectLegalHold,
    DeleteObjectTagging: objects.deleteObjectTagging,
    GetObjectAcl: access.getObjectAcl,
    PutObjectAcl: access.putObjectAcl,
    GetObjectAttributes: attributes.getObjectAttributes,
  };
}
