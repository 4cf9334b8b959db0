import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { ClusterController } from './health-watch/cluster.controller';
import { HeartbeatWatcher } from './health-watch/heartbeat-watcher.service';
import { MonitoringConfig } from './monitoring.config';

export const MONITORING_DEFAULT_PORT = 9600;

export const MonitoringService: ServiceDefinition<MonitoringConfig> = {
  service: 'monitoring',
  description: 'Heartbeats, failure detection, alerts and the dashboard',
  configClass: MonitoringConfig,
  defaultPort: MONITORING_DEFAULT_PORT,
  module: (config, identity) => ({
    module: class MonitoringAppModule {},
    imports: [ServiceKitModule.forRoot({ identity, config })],
    controllers: [ClusterController],
    providers: [HeartbeatWatcher],
  }),
};
