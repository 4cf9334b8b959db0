import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { MembershipCommandsHandler } from './membership-commands.handler';
import { MembershipRpcController } from './membership-rpc.controller';

/** Storage-node membership (CLUSTER): joins, weights, drains, removals, the ring epoch. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [MembershipRpcController],
  providers: [MembershipCommandsHandler],
})
export class MembershipModule {}
