export type {
  BeginBucketDeletion,
  BucketCommand,
  CancelBucketDeletion,
  ChangeBucketOwner,
  CreateBucket,
  DeleteBucket,
  DeleteBucketTags,
  PutBucketTags,
  SetBucketDefaultStorageClass,
  SetBucketReplication,
  SetBucketVersioning,
} from '@cairn/protocol';
