import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Seconds buckets from 1 ms to 60 s: small-object requests sit at the bottom, big uploads at the top. */
const HTTP_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/**
 * How often the event-loop delay histograms (prom-client's nodejs_eventloop_lag_* and the
 * heartbeat's eventLoopLagMs) sample the loop. Each sample wakes an idle process: prom-client's
 * default of 10 ms cost an idle service about 2 ms of CPU a second on its own; a lag shorter than
 * this is not one anybody acts on.
 */
export const EVENT_LOOP_MONITORING_RESOLUTION_MS = 20;

/** One Prometheus registry per service: default process metrics plus what the service adds. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_RESOLUTION_MS });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_DURATION_BUCKETS_SECONDS,
      registers: [this.registry],
    });
  }

  setDefaultLabels(labels: Record<string, string>): void {
    this.registry.setDefaultLabels(labels);
  }

  /** Times every request; the route label is the matched route pattern, never the raw URL (cardinality). */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const end = this.httpDuration.startTimer();
      res.once('finish', () => {
        const route = (req.route?.path as string | undefined) ?? (res.statusCode === 404 ? 'unmatched' : req.baseUrl || 'other');
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }
}
