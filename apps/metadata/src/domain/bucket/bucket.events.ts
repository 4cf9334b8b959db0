export type {
  BucketCreated,
  BucketDefaultStorageClassChanged,
  BucketDeleted,
  BucketDeletionCancelled,
  BucketDeletionStarted,
  BucketEvent,
  BucketOwnerChanged,
  BucketReplicationChanged,
  BucketTagsDeleted,
  BucketTagsSet,
  BucketVersioningChanged,
} from '@cairn/protocol';
