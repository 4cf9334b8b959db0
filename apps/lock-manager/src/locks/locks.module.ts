import { Module, type DynamicModule } from '@nestjs/common';
import { LeaderForwardingResponder } from './leader-forwarding.responder';
import { LOCK_RAFT_OPTIONS, LockRaftNode, type LockRaftOptions } from './lock-raft-node.service';
import { LocksRpcController } from './locks-rpc.controller';
import { LocksController } from './locks.controller';
import { LocksService } from './locks.service';

/** The replicated lock table (Raft over NATS, file log, snapshots) and its HTTP and NATS API. */
@Module({})
export class LocksModule {
  static forRoot(options: LockRaftOptions): DynamicModule {
    return {
      module: LocksModule,
      controllers: [LocksController, LocksRpcController],
      providers: [{ provide: LOCK_RAFT_OPTIONS, useValue: options }, LockRaftNode, LocksService, LeaderForwardingResponder],
      exports: [LockRaftNode, LocksService],
    };
  }
}
