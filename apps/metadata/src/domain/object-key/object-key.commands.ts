export type {
  CopyObject,
  CopySource,
  DeleteObject,
  DeleteObjectTags,
  DeleteObjectVersion,
  InBucketLife,
  ObjectKeyCommand,
  PutObjectTags,
  PutObjectVersion,
  WriteConditions,
} from '@cairn/protocol';
