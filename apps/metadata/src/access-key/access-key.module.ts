import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { MetadataCoreModule } from '../shared/metadata-core.module';
import { AccessKeyCommandsHandler } from './access-key-commands.handler';
import { AccessKeyRpcController } from './access-key-rpc.controller';
import { RootKeyBootstrap } from './root-key.bootstrap';
import { UserCommandsHandler } from '../user/user-commands.handler';
import { UserRpcController } from '../user/user-rpc.controller';

/** Users, their access keys, and the root key created from the configuration on start. */
@Module({
  imports: [MetadataCoreModule, ProjectionsModule],
  controllers: [AccessKeyRpcController, UserRpcController],
  providers: [AccessKeyCommandsHandler, RootKeyBootstrap, UserCommandsHandler],
  exports: [AccessKeyCommandsHandler, UserCommandsHandler],
})
export class AccessKeyModule {}
