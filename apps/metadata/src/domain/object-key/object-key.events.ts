export type {
  BucketLife,
  DeleteMarkerPut,
  ObjectKeyEvent,
  ObjectKeyRef,
  ObjectTagsDeleted,
  ObjectTagsSet,
  ObjectVersionCopied,
  ObjectVersionData,
  ObjectVersionDeleted,
  ObjectVersionPut,
} from '@cairn/protocol';
