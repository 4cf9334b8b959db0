import { Module } from '@nestjs/common';
import { AccessKeyModule } from '../access-key/access-key.module';
import { BucketModule } from '../bucket/bucket.module';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { MetadataAdminController } from './metadata-admin.controller';

/** The operator's HTTP API (/admin). */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule, BucketModule, AccessKeyModule],
  controllers: [MetadataAdminController],
})
export class MetadataAdminModule {}
