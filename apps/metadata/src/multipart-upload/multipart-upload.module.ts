import { Module } from '@nestjs/common';
import { BucketModule } from '../bucket/bucket.module';
import { ObjectKeyModule } from '../object-key/object-key.module';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { MultipartUploadRpcController } from './multipart-upload-rpc.controller';
import { UploadCommandsHandler } from './upload-commands.handler';

/** Multipart uploads: a completion puts its version through the object keys. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule, BucketModule, ObjectKeyModule],
  controllers: [MultipartUploadRpcController],
  providers: [UploadCommandsHandler],
})
export class MultipartUploadModule {}
