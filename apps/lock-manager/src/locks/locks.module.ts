import { Module, type DynamicModule } from '@nestjs/common';
import { LeaderForwardingResponder } from './leader-forwarding.responder';
import { LeaderRpcResponder } from './leader-rpc.responder';
import { LOCK_RAFT_OPTIONS, LockRaftNode, type LockRaftOptions } from './lock-raft-node.service';
import { LocksController } from './locks.controller';
import { LocksService } from './locks.service';

/** The replicated lock table (Raft over NATS, file log, snapshots) and its HTTP and NATS API (NATS answered by the leader alone). */
@Module({})
export class LocksModule {
  static forRoot(options: LockRaftOptions): DynamicModule {
    return {
      module: LocksModule,
      controllers: [LocksController],
      providers: [{ provide: LOCK_RAFT_OPTIONS, useValue: options }, LockRaftNode, LocksService, LeaderForwardingResponder, LeaderRpcResponder],
      exports: [LockRaftNode, LocksService],
    };
  }
}
