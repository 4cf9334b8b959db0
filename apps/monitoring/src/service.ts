import { LockClient } from '@cairn/lock-client';
import { RpcClient } from '@cairn/messaging';
import { ServiceKitModule, type ServiceDefinition } from '@cairn/service-kit';
import { DrillReportsReader } from './adapters/drill-reports.reader';
import { InstanceHealthLog } from './adapters/instance-health.log';
import { AlertEvaluator } from './alerts/alert-evaluator.service';
import { AlertsController } from './alerts/alerts.controller';
import { ALERTS_CONFIG, loadAlertsConfig } from './alerts/alerts-config.loader';
import { WebhookDeliveryService } from './alerts/webhook-delivery.service';
import { DASHBOARD_ALERTS, DASHBOARD_DRILLS, DASHBOARD_FIGURES, type DashboardAlertsSource, type DashboardFiguresSource } from './dashboard/dashboard-sources.port';
import { DashboardController } from './dashboard/dashboard.controller';
import { DashboardService } from './dashboard/dashboard.service';
import { FiguresController } from './figures/figures.controller';
import { RegionFiguresService } from './figures/region-figures.service';
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
    controllers: [AlertsController, ClusterController, FiguresController, DashboardController],
    providers: [
      { provide: LockClient, useFactory: (rpc: RpcClient) => new LockClient(rpc, { owner: identity.instance }), inject: [RpcClient] },
      InstanceHealthLog,
      HeartbeatWatcher,
      RegionFiguresService,
      { provide: ALERTS_CONFIG, useValue: loadAlertsConfig(config) },
      WebhookDeliveryService,
      AlertEvaluator,
      DashboardService,
      DrillReportsReader,
      // Aliases (useExisting), not factories: Nest runs the lifecycle hooks of a factory's value again, which would register the metrics and workers twice.
      { provide: DASHBOARD_FIGURES, useExisting: RegionFiguresService satisfies new (...args: never[]) => DashboardFiguresSource },
      { provide: DASHBOARD_ALERTS, useExisting: AlertEvaluator satisfies new (...args: never[]) => DashboardAlertsSource },
      { provide: DASHBOARD_DRILLS, useExisting: DrillReportsReader },
    ],
  }),
};
