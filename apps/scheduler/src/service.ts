import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { SchedulerConfig } from './scheduler.config';

export const SCHEDULER_DEFAULT_PORT = 9500;

export const SchedulerService: ServiceDefinition<SchedulerConfig> = {
  service: 'scheduler',
  description: 'Background jobs on BullMQ: repair, rebalance, scrub, GC, lifecycle, drills',
  configClass: SchedulerConfig,
  defaultPort: SCHEDULER_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class SchedulerAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config, redis: { url: config.CAIRN_REDIS_URL } })],
  }),
};
