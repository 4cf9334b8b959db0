export type {
  CopyObject,
  CopySource,
  DeleteObject,
  DeleteObjectTags,
  DeleteObjectVersion,
  ObjectKeyCommand,
  PutObjectTags,
  PutObjectVersion,
  WriteConditions,
} from '@cairn/protocol';
