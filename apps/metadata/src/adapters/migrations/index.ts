import { CreateMetadataTables1763780000000 } from './1763780000000-create-metadata-tables.migration';
import { AddErasureShards1765000000000 } from './1765000000000-add-erasure-shards.migration';
import { AddInlineChunks1764100000000 } from './1764100000000-add-inline-chunks.migration';
import { AddContentHeaders1764200000000 } from './1764200000000-add-content-headers.migration';
import { KeepCompletedUploadChunks1764300000000 } from './1764300000000-keep-completed-upload-chunks.migration';
import { AddBucketPolicy1764400000000 } from './1764400000000-add-bucket-policy.migration';
import { AddBucketCors1764460000000 } from './1764460000000-add-bucket-cors.migration';
import { CreateConflictLog1764500000000 } from './1764500000000-create-conflict-log.migration';
import { AddBucketDataProtection1764700000000 } from './1764700000000-add-bucket-data-protection.migration';
import { AddUsersAndBucketAccess1764800000000 } from './1764800000000-add-users-and-bucket-access.migration';
import { AddBucketLifecycle1764900000000 } from './1764900000000-add-bucket-lifecycle.migration';
import { AddObjectAclsAndSealedSecrets1765100000000 } from './1765100000000-add-object-acls-and-sealed-secrets.migration';

/** Every metadata migration, oldest first. */
export const METADATA_MIGRATIONS = [
  CreateMetadataTables1763780000000,
  AddInlineChunks1764100000000,
  AddContentHeaders1764200000000,
  KeepCompletedUploadChunks1764300000000,
  AddBucketPolicy1764400000000,
  AddBucketCors1764460000000,
  CreateConflictLog1764500000000,
  AddBucketDataProtection1764700000000,
  AddUsersAndBucketAccess1764800000000,
  AddBucketLifecycle1764900000000,
  AddErasureShards1765000000000,
  AddObjectAclsAndSealedSecrets1765100000000,
] as const;
