import { Module } from '@nestjs/common';
import { LockClient } from '@cairn/lock-client';
import { RpcClient } from '@cairn/messaging';
import { SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { syncPeersOf, type SyncConfig } from '../sync.config';
import { AntiEntropyController } from './anti-entropy.controller';
import { AntiEntropyResponder } from './anti-entropy.responder';
import { ANTI_ENTROPY_SETTINGS, AntiEntropyService, type AntiEntropySettings } from './anti-entropy.service';
import { ReplicationModule, ReplicationService } from '../replication/replication.module';
import { REPLICA_CHUNK_PULLER } from './replica-chunks.port';
import { ReplicaTrees } from './replica-trees';

export function antiEntropySettingsOf(config: SyncConfig, region: string): AntiEntropySettings {
  return {
    intervalMs: config.CAIRN_ANTI_ENTROPY_INTERVAL_MS,
    probeMs: config.CAIRN_ANTI_ENTROPY_PROBE_MS,
    lease: config.CAIRN_ANTI_ENTROPY_LEASE,
    requestTimeoutMs: config.CAIRN_ANTI_ENTROPY_TIMEOUT_MS,
    peers: syncPeersOf(config, region),
  };
}

/**
 * Anti-entropy between regions (docs/anti-entropy.md): answers peers' tree and key-event requests,
 * runs this region's comparisons and repairs, and shows them at /replication/anti-entropy.
 */
@Module({
  imports: [ReplicationModule],
  controllers: [AntiEntropyController],
  providers: [
    ReplicaTrees,
    AntiEntropyResponder,
    AntiEntropyService,
    {
      provide: ANTI_ENTROPY_SETTINGS,
      inject: [SERVICE_CONFIG, SERVICE_IDENTITY],
      useFactory: (config: SyncConfig, identity: ServiceIdentity) => antiEntropySettingsOf(config, identity.region),
    },
    { provide: LockClient, inject: [RpcClient, SERVICE_IDENTITY], useFactory: (rpc: RpcClient, identity: ServiceIdentity) => new LockClient(rpc, { owner: identity.instance }) },
    // Replication's chunk puller: a repaired version's chunks come the way a replicated one's do.
    { provide: REPLICA_CHUNK_PULLER, inject: [ReplicationService], useFactory: (replication: ReplicationService) => replication.puller },
  ],
  exports: [AntiEntropyService, ReplicaTrees],
})
export class AntiEntropyModule {}
