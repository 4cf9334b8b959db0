import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { LockManagerConfig } from './lock-manager.config';

export const LOCK_MANAGER_DEFAULT_PORT = 9401;

export const LockManagerService: ServiceDefinition<LockManagerConfig> = {
  service: 'lock-manager',
  description: 'Locks, leases and fencing tokens on a Raft group',
  configClass: LockManagerConfig,
  defaultPort: LOCK_MANAGER_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class LockManagerAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config })],
  }),
};
