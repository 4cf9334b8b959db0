export type {
  BucketLife,
  DeleteMarkerPut,
  ObjectKeyEvent,
  ObjectAclSet,
  ObjectKeyRef,
  ObjectTagsDeleted,
  ObjectTagsSet,
  ObjectVersionCopied,
  ObjectVersionData,
  ObjectVersionDeleted,
  ObjectVersionPut,
} from '@cairn/protocol';
