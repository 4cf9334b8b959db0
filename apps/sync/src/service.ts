import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { AntiEntropyModule } from './anti-entropy/anti-entropy.module';
import { ChangeFeedModule } from './change-feed/change-feed.module';
import { ControlModule } from './control/control.module';
import { ReplicationModule } from './replication/replication.module';
import { SyncConfig } from './sync.config';

export const SYNC_DEFAULT_PORT = 9300;

export const SyncService: ServiceDefinition<SyncConfig> = {
  service: 'sync',
  description: 'Replication between regions: events, chunks, conflict resolution, anti-entropy, the control group (bucket homes, failover)',
  configClass: SyncConfig,
  defaultPort: SYNC_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class SyncAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config }), ReplicationModule, ChangeFeedModule, AntiEntropyModule, ControlModule],
  }),
};
