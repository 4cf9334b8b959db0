import { LockClient } from '@cairn/lock-client';
import { RpcClient } from '@cairn/messaging';
import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { RegionChunks } from './adapters/region-chunks';
import { SchedulerQueues } from './adapters/scheduler-queues';
import { SchedulerStateStore } from './adapters/scheduler-state.store';
import { NodeAdminService } from './admin/node-admin.service';
import { BackupAdminController } from './backup/backup-admin.controller';
import { BackupTargetsStore } from './backup/backup-targets.store';
import { BackupQueue } from './backup/backup.queue';
import { BackupRunner } from './backup/backup.runner';
import { RegionRestoreRunner } from './backup/region-restore.runner';
import { SchedulerAdminController } from './admin/scheduler-admin.controller';
import { SchedulerJobsRpcController } from './admin/scheduler-jobs-rpc.controller';
import { ClusterView } from './cluster/cluster-view';
import { DrillQueue } from './drill/drill.queue';
import { ChunkCopier } from './repair/chunk-copier';
import { ShardRebuilder } from './repair/shard-rebuilder';
import { CapacityAdminController } from './capacity/capacity-admin.controller';
import { StorageCapacityService } from './capacity/storage-capacity.service';
import { ChunkHealthConsumer } from './repair/chunk-health.consumer';
import { ChunkRepairQueue } from './repair/chunk-repair.queue';
import { HistoryReadController } from './point-in-time/history-read.controller';
import { RestoreAdminController } from './point-in-time/restore-admin.controller';
import { BackupHistoryReader } from './point-in-time/backup-history.reader';
import { RestoreQueue } from './point-in-time/restore.queue';
import { NodeHealthFollower } from './repair/node-health.follower';
import { LifecycleAdminController } from './lifecycle/lifecycle-admin.controller';
import { LifecycleMetadata } from './lifecycle/lifecycle-metadata';
import { LifecycleTransitions } from './lifecycle/lifecycle-transitions';
import { LifecycleQueue } from './lifecycle/lifecycle.queue';
import { SchedulerConfig } from './scheduler.config';
import { ScrubQueue } from './scrub/scrub.queue';
import { ChunkSweep } from './sweep/chunk-sweep';
import { SweepQueue } from './sweep/sweep.queue';

export const SCHEDULER_DEFAULT_PORT = 9500;

export const SchedulerService: ServiceDefinition<SchedulerConfig> = {
  service: 'scheduler',
  description: 'Background jobs on BullMQ: repair, rebalance, scrub, GC, lifecycle, drills',
  configClass: SchedulerConfig,
  defaultPort: SCHEDULER_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class SchedulerAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config, redis: { url: config.CAIRN_REDIS_URL, tlsCaFile: config.CAIRN_REDIS_TLS_CA_FILE } })],
    controllers: [CapacityAdminController, SchedulerAdminController, SchedulerJobsRpcController, LifecycleAdminController, ChunkHealthConsumer, HistoryReadController, RestoreAdminController, BackupAdminController],
    providers: [
      { provide: LockClient, useFactory: (rpc: RpcClient) => new LockClient(rpc, { owner: identity.instance }), inject: [RpcClient] },
      SchedulerQueues,
      SchedulerStateStore,
      ClusterView,
      NodeHealthFollower,
      ChunkCopier,
      ShardRebuilder,
      StorageCapacityService,
      ChunkRepairQueue,
      ChunkSweep,
      SweepQueue,
      ScrubQueue,
      NodeAdminService,
      LifecycleMetadata,
      LifecycleTransitions,
      LifecycleQueue,
      RegionChunks,
      RestoreQueue,
      BackupHistoryReader,
      BackupTargetsStore,
      BackupRunner,
      BackupQueue,
      RegionRestoreRunner,
      DrillQueue,
    ],
  }),
};
