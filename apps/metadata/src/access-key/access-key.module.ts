import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { AccessKeyCommandsHandler } from './access-key-commands.handler';
import { AccessKeyRpcController } from './access-key-rpc.controller';
import { RootKeyBootstrap } from './root-key.bootstrap';

/** Access keys, and the root key created from the configuration on start. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [AccessKeyRpcController],
  providers: [AccessKeyCommandsHandler, RootKeyBootstrap],
  exports: [AccessKeyCommandsHandler],
})
export class AccessKeyModule {}
