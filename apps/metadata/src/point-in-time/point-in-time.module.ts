import { Module } from '@nestjs/common';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { PointInTimeAdminController } from './point-in-time-admin.controller';
import { PointInTimeRpcController } from './point-in-time-rpc.controller';
import { EventImportService } from './event-import.service';
import { PointInTimeService } from './point-in-time.service';

/** Reading the past and planning restores from the event log (docs/backups.md). */
@Module({
  imports: [MetadataCoreModule],
  controllers: [PointInTimeRpcController, PointInTimeAdminController],
  providers: [PointInTimeService, EventImportService],
})
export class PointInTimeModule {}
