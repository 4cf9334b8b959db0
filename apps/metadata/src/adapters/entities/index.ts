import { AccessKeyEntity } from './access-key.entity';
import { BucketEntity } from './bucket.entity';
import { MultipartPartChunkEntity, ObjectVersionChunkEntity } from './chunk-reference.entity';
import { MultipartPartEntity, MultipartUploadEntity } from './multipart-upload.entity';
import { ObjectVersionEntity } from './object-version.entity';
import { ProjectionCheckpointEntity } from './projection-checkpoint.entity';
import { RingEpochEntity, StorageNodeEntity } from './storage-node.entity';

export {
  AccessKeyEntity,
  BucketEntity,
  MultipartPartChunkEntity,
  MultipartPartEntity,
  MultipartUploadEntity,
  ObjectVersionChunkEntity,
  ObjectVersionEntity,
  ProjectionCheckpointEntity,
  RingEpochEntity,
  StorageNodeEntity,
};

export const METADATA_ENTITIES = [
  AccessKeyEntity,
  BucketEntity,
  MultipartPartChunkEntity,
  MultipartPartEntity,
  MultipartUploadEntity,
  ObjectVersionChunkEntity,
  ObjectVersionEntity,
  ProjectionCheckpointEntity,
  RingEpochEntity,
  StorageNodeEntity,
] as const;
