import path from 'node:path';
import { natsConnectOptions } from '@cairn/messaging';
import { messagingConfigOf, ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { LockManagerConfig } from './lock-manager.config';
import { LocksModule } from './locks';

export const LOCK_MANAGER_DEFAULT_PORT = 9401;
const DEFAULT_DATA_ROOT = '.cairn/lock-manager';

export const LockManagerService: ServiceDefinition<LockManagerConfig> = {
  service: 'lock-manager',
  description: 'Locks, leases and fencing tokens on a Raft group',
  configClass: LockManagerConfig,
  defaultPort: LOCK_MANAGER_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class LockManagerAppModule {},
    imports: [
      ServiceKitModule.forRoot({ identity, config }),
      LocksModule.forRoot({
        nodeId: identity.instance,
        peers: config.CAIRN_RAFT_PEERS ? config.CAIRN_RAFT_PEERS.split(',') : [identity.instance],
        dataDir: config.CAIRN_DATA_DIR ?? path.join(DEFAULT_DATA_ROOT, identity.instance),
        natsUrl: config.CAIRN_NATS_URL,
        natsConnectOptions: natsConnectOptions(messagingConfigOf(identity, config)),
        namespace: identity.namespace,
        snapshotEveryEntries: config.CAIRN_RAFT_SNAPSHOT_EVERY_ENTRIES,
        sendAppendsBeforePersist: config.CAIRN_RAFT_SEND_APPENDS_BEFORE_PERSIST,
      }),
    ],
  }),
};
