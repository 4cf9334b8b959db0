import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { NatsConnectionManager } from '@cairn/messaging';
import { MESSAGE_AUTH_HEADER, REPLICATION_FACTOR_FIGURE, subjectsFor, type Heartbeat } from '@cairn/protocol';
import type { NextFunction, Request, Response } from 'express';
import { headers as natsHeaders, JSONCodec } from 'nats';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { EVENT_LOOP_MONITORING_RESOLUTION_MS } from '../metrics/metrics.service';
import { ClusterCredentials } from '../security/cluster-credentials';
import type { BaseServiceConfig } from '../config/service-config';
import { SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '../service-identity';
import { IntervalWorker } from '../workers/interval.worker';
import { WorkerRegistry } from '../workers/worker-registry';

export const HEARTBEAT_INTERVAL_MS = 1_000;
const codec = JSONCodec<Heartbeat>();

type ExtraFigure = number | string | boolean;

/**
 * Publishes `hb.<region>.<service>.<instance>` on core NATS once a second, signed with the
 * cluster's NATS key (a forged heartbeat must not hide a dead node), with load, uptime and
 * version, plus whatever figures the service registers (capacity, lag). Heartbeats are
 * best-effort: while NATS is away they are skipped, not queued.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Heartbeat');
  private readonly startedAt = Date.now();
  private readonly extras = new Map<string, () => ExtraFigure>();
  private readonly worker = new IntervalWorker('heartbeat', HEARTBEAT_INTERVAL_MS, async () => this.beat(), { logger: this.logger });
  private loopDelay: IntervalHistogram | undefined;
  private inFlight = 0;
  private sent = 0;
  private url: string | undefined;

  constructor(
    private readonly connection: NatsConnectionManager,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    private readonly workers: WorkerRegistry,
    private readonly credentials: ClusterCredentials,
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
  ) {
    this.addFigure(REPLICATION_FACTOR_FIGURE, () => config.CAIRN_REPLICATION_FACTOR);
  }

  addFigure(name: string, read: () => ExtraFigure): void {
    this.extras.set(name, read);
  }

  /** The URL the service listens at (set by startService once it listens), sent in every heartbeat from then on. */
  setUrl(url: string): void {
    this.url = url;
  }

  get heartbeatsSent(): number {
    return this.sent;
  }

  /** Counts requests in flight, reported as load. */
  middleware() {
    return (_req: Request, res: Response, next: NextFunction) => {
      this.inFlight += 1;
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          this.inFlight -= 1;
        }
      };
      res.once('finish', finish);
      res.once('close', finish);
      next();
    };
  }

  onApplicationBootstrap(): void {
    this.loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_MONITORING_RESOLUTION_MS });
    this.loopDelay.enable();
    this.workers.register(this.worker);
    this.worker.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.stop();
    this.workers.unregister(this.worker.name);
    this.loopDelay?.disable();
  }

  snapshot(now = Date.now()): Heartbeat {
    const memory = process.memoryUsage();
    const extra = Object.fromEntries([...this.extras].map(([name, read]) => [name, read()]));
    return {
      region: this.identity.region,
      service: this.identity.service,
      instance: this.identity.instance,
      version: this.identity.version,
      uptimeSeconds: Math.round((now - this.startedAt) / 1000),
      sentAt: new Date(now).toISOString(),
      ...(this.url ? { url: this.url } : {}),
      load: {
        loadAverage1m: loadavg()[0],
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        eventLoopLagMs: this.loopDelay ? Number((this.loopDelay.mean / 1e6).toFixed(2)) : 0,
        inFlightRequests: this.inFlight,
      },
      ...(this.extras.size > 0 ? { extra } : {}),
    };
  }

  /** A failed publish fails the run (the worker logs and shows it); no connection is not a failure: heartbeats are best-effort. */
  private beat(): void {
    const nc = this.connection.current();
    if (!nc) return;
    const subject = subjectsFor(this.identity.namespace).heartbeat(this.identity.region, this.identity.service, this.identity.instance);
    const data = codec.encode(this.snapshot());
    const h = natsHeaders();
    h.set(MESSAGE_AUTH_HEADER, this.credentials.sign(subject, data));
    nc.publish(subject, data, { headers: h });
    this.sent += 1;
    this.loopDelay?.reset();
  }
}
