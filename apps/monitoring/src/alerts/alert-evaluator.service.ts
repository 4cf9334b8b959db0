import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { IntervalWorker, MetricsService, SERVICE_CONFIG, SERVICE_IDENTITY, WorkerRegistry, type ServiceIdentity } from '@cairn/service-kit';
import { Gauge } from 'prom-client';
import { notificationOf, targetWants } from '../domain/alert-delivery';
import { evaluateAlerts, initialAlertState, listAlerts, type AlertEngineState, type AlertRecord, type AlertTransition } from '../domain/alert-rules';
import type { AlertsConfig } from '../domain/alert-rules-file';
import { alertInputsOf } from '../figures/region-figures';
import { RegionFiguresService } from '../figures/region-figures.service';
import { HeartbeatWatcher } from '../health-watch/heartbeat-watcher.service';
import type { MonitoringConfig } from '../monitoring.config';
import { ALERTS_CONFIG } from './alerts-config.loader';
import { WebhookDeliveryService } from './webhook-delivery.service';

/**
 * Evaluates the alert rules every CAIRN_ALERT_EVALUATE_INTERVAL_MS against the region's figures.
 * Every monitoring instance evaluates (so each can list the alerts and a new leader knows how
 * long a condition has held); only the failure detector's leader sends notifications. On taking
 * the lead it sends what is firing and it has not sent, so a change is delivered at least once
 * across a change of leader (receivers drop repeats by delivery id, or group by fingerprint).
 */
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Alerts');
  private state: AlertEngineState = initialAlertState();
  private readonly worker: IntervalWorker;
  /** Firing alerts (by id) this instance has sent out. */
  private readonly sentFiring = new Set<string>();
  private dropped = 0;

  constructor(
    private readonly figures: RegionFiguresService,
    private readonly watcher: HeartbeatWatcher,
    private readonly webhooks: WebhookDeliveryService,
    private readonly metrics: MetricsService,
    private readonly workers: WorkerRegistry,
    @Inject(ALERTS_CONFIG) readonly alertsConfig: AlertsConfig,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) config: MonitoringConfig,
  ) {
    this.worker = new IntervalWorker('alert-rules', config.CAIRN_ALERT_EVALUATE_INTERVAL_MS, async () => this.evaluate(Date.now()), { logger: this.logger });
  }

  onApplicationBootstrap(): void {
    const alerts = () => [...this.state.active.values()];
    new Gauge({
      name: 'cairn_alerts_firing',
      help: 'Alerts firing now, by rule and severity',
      labelNames: ['rule', 'severity'],
      registers: [this.metrics.registry],
      collect(this: Gauge<'rule' | 'severity'>) {
        this.reset();
        const counts = new Map<string, { rule: string; severity: string; n: number }>();
        for (const a of alerts()) {
          if (a.state !== 'firing') continue;
          const key = `${a.rule}\u0000${a.severity}`;
          const c = counts.get(key) ?? { rule: a.rule, severity: a.severity, n: 0 };
          c.n++;
          counts.set(key, c);
        }
        for (const c of counts.values()) this.set({ rule: c.rule, severity: c.severity }, c.n);
      },
    });
    this.workers.register(this.worker);
    this.worker.start();
    this.logger.log(`${this.alertsConfig.rules.length} alert rules, ${this.alertsConfig.webhooks.length} webhooks`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
    this.workers.unregister(this.worker.name);
  }

  /** Firing, pending, then resolved (newest first). */
  list(): AlertRecord[] {
    return listAlerts(this.state);
  }

  /** Active and recently resolved (newest last): the dashboard's alerts source (DashboardAlertsSource). */
  alerts(): { readonly active: readonly AlertRecord[]; readonly resolved: readonly AlertRecord[] } {
    return { active: listAlerts({ ...this.state, resolved: [] }), resolved: this.state.resolved };
  }

  get engineState(): AlertEngineState {
    return this.state;
  }

  get leading(): boolean {
    return this.watcher.leading;
  }

  /** One evaluation; returns the worker's progress. */
  evaluate(nowMs: number) {
    const result = evaluateAlerts(this.alertsConfig.rules, alertInputsOf(this.figures.current(nowMs)), this.state, nowMs);
    this.state = result.state;
    this.dropped += result.dropped;
    for (const t of result.transitions) this.logger.log(`${t.type}: ${t.alert.rule} ${t.alert.summary}`);
    if (this.leading) this.notify(result.transitions);
    else for (const t of result.transitions) if (t.type === 'resolved') this.sentFiring.delete(t.alert.id);
    const firing = [...this.state.active.values()].filter((a) => a.state === 'firing').length;
    return { doneItems: this.alertsConfig.rules.length, totalItems: this.alertsConfig.rules.length, detail: `${firing} firing${this.dropped ? `, ${this.dropped} conditions not tracked (limit)` : ''}` };
  }

  private notify(transitions: readonly AlertTransition[]): void {
    for (const t of transitions) {
      if (t.type === 'firing') {
        this.sentFiring.add(t.alert.id);
        this.send(t);
      } else if (this.sentFiring.delete(t.alert.id)) {
        this.send(t);
      }
    }
    // Firing before this instance led, or while the leader was another: sent now.
    for (const alert of this.state.active.values()) {
      if (alert.state !== 'firing' || this.sentFiring.has(alert.id)) continue;
      this.sentFiring.add(alert.id);
      this.send({ type: 'firing', alert });
    }
    for (const id of this.sentFiring) if (![...this.state.active.values()].some((a) => a.id === id)) this.sentFiring.delete(id);
  }

  private send(transition: AlertTransition): void {
    const notification = notificationOf(transition, this.identity.region, `${this.identity.service}/${this.identity.instance}`);
    for (const target of this.alertsConfig.webhooks) if (targetWants(target, transition)) this.webhooks.send(target, notification);
  }
}
