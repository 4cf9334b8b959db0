import { Module } from '@nestjs/common';
import { BucketModule } from '../bucket/bucket.module';
import { ObjectKeyModule } from '../object-key/object-key.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { DataProtectionRpcController } from './data-protection-rpc.controller';

/** Encryption at rest and Object Lock (docs/encryption.md, docs/object-lock.md). */
@Module({
  imports: [MetadataCoreModule, BucketModule, ObjectKeyModule],
  controllers: [DataProtectionRpcController],
})
export class DataProtectionModule {}
