import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import { InstanceHealthSchemaVersions, subjectsFor, type Heartbeat, type InstanceHealthEvent } from '@cairn/protocol';
import { EventClock, IntervalWorker, MetricsService, SERVICE_IDENTITY, WorkerRegistry, type ServiceIdentity } from '@cairn/service-kit';
import { JSONCodec, type Subscription } from 'nats';
import { Gauge } from 'prom-client';
import { PhiAccrualDetector, statusForPhi, type InstanceStatus } from '../domain/phi-accrual.detector';

export const EVALUATE_EVERY_MS = 500;
/** An instance gone this long is dropped from the table (it was decommissioned, not failed). */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;
const codec = JSONCodec<Heartbeat>();

export interface InstanceView {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly status: InstanceStatus;
  readonly phi: number;
  readonly lastHeartbeatAt: string | null;
  readonly heartbeat: Heartbeat | null;
}

interface Watched {
  readonly detector: PhiAccrualDetector;
  status: InstanceStatus;
  last: Heartbeat;
}

/**
 * Listens to every heartbeat of the region, runs a phi-accrual detector per instance, and appends
 * NodeSuspected / NodeDown / NodeRecovered to CLUSTER on each change of mind, for the scheduler
 * and the other regions to act on.
 */
@Injectable()
export class HeartbeatWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HeartbeatWatcher');
  private readonly watched = new Map<string, Watched>();
  private subscription: Subscription | undefined;
  private readonly evaluator = new IntervalWorker('monitoring-failure-detector', EVALUATE_EVERY_MS, async () => this.evaluate(Date.now()), { logger: this.logger });
  private stopped = false;

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly events: JetStreamEventStore,
    private readonly clock: EventClock,
    private readonly metrics: MetricsService,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  onApplicationBootstrap(): void {
    const watched = this.watched;
    new Gauge({
      name: 'cairn_monitoring_instances',
      help: 'Service instances by the failure detector’s status',
      labelNames: ['status'],
      registers: [this.metrics.registry],
      collect(this: Gauge<'status'>) {
        for (const status of ['up', 'suspected', 'down'] as const) this.set({ status }, [...watched.values()].filter((w) => w.status === status).length);
      },
    });
    void this.nats.connection().then(
      (nc) => {
        if (this.stopped) return;
        this.subscription = nc.subscribe(subjectsFor(this.identity.namespace).heartbeatWildcard(), {
          callback: (err, msg) => {
            if (err) return;
            try {
              this.onHeartbeat(codec.decode(msg.data), Date.now());
            } catch (error) {
              this.logger.warn(`unreadable heartbeat on ${msg.subject}: ${String(error)}`);
            }
          },
        });
      },
      () => undefined,
    );
    this.workers.register(this.evaluator);
    this.evaluator.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    await this.evaluator.stop();
    this.workers.unregister(this.evaluator.name);
  }

  instances(nowMs = Date.now()): InstanceView[] {
    return [...this.watched.values()]
      .map((w) => {
        const phi = w.detector.phi(nowMs);
        return {
          region: w.last.region,
          service: w.last.service,
          instance: w.last.instance,
          status: w.status,
          phi: Number.isFinite(phi) ? Number(phi.toFixed(2)) : phi,
          lastHeartbeatAt: w.detector.lastHeartbeatMs === undefined ? null : new Date(w.detector.lastHeartbeatMs).toISOString(),
          heartbeat: w.last,
        };
      })
      .sort((a, b) => `${a.service}/${a.instance}`.localeCompare(`${b.service}/${b.instance}`));
  }

  private onHeartbeat(heartbeat: Heartbeat, nowMs: number): void {
    const key = `${heartbeat.region}/${heartbeat.service}/${heartbeat.instance}`;
    let w = this.watched.get(key);
    if (!w) {
      w = { detector: new PhiAccrualDetector(), status: 'up', last: heartbeat };
      this.watched.set(key, w);
    }
    w.detector.heartbeat(nowMs);
    w.last = heartbeat;
    if (w.status !== 'up') this.change(w, 'up', 'NodeRecovered', nowMs);
  }

  private evaluate(nowMs: number): void {
    for (const [key, w] of this.watched) {
      if (w.detector.lastHeartbeatMs !== undefined && nowMs - w.detector.lastHeartbeatMs > FORGET_AFTER_MS) {
        this.watched.delete(key);
        continue;
      }
      const status = statusForPhi(w.detector.phi(nowMs));
      if (status === w.status || status === 'up') continue;
      this.change(w, status, status === 'down' ? 'NodeDown' : 'NodeSuspected', nowMs);
    }
  }

  private change(w: Watched, status: InstanceStatus, type: InstanceHealthEvent['type'], nowMs: number): void {
    // Suspected after down is no news: only a recovery clears a down verdict.
    if (w.status === 'down' && status === 'suspected') return;
    w.status = status;
    const phi = w.detector.phi(nowMs);
    const event = {
      type,
      data: {
        region: w.last.region,
        service: w.last.service,
        instance: w.last.instance,
        phi: Number.isFinite(phi) ? phi : Number.MAX_VALUE,
        lastHeartbeatAt: w.detector.lastHeartbeatMs === undefined ? null : new Date(w.detector.lastHeartbeatMs).toISOString(),
        decidedBy: this.identity.instance,
      },
    } as InstanceHealthEvent;
    this.logger.log(`${w.last.service}/${w.last.instance} is ${status} (phi ${phi.toFixed(1)})`);
    const subject = subjectsFor(this.identity.namespace).instanceHealth(w.last.region, w.last.service, w.last.instance);
    const envelope = this.clock.envelope(event, `${w.last.service}/${w.last.instance}`, InstanceHealthSchemaVersions[type]);
    this.events.publish(subject, envelope).catch((error: unknown) => this.logger.error(`could not record ${type}: ${String(error)}`));
  }
}
