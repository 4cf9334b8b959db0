import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { MetricsService } from '@cairn/service-kit';
import { Counter } from 'prom-client';
import { Agent, request } from 'undici';
import {
  ATTEMPT_HEADER,
  DELIVERY_HEADER,
  EVENT_HEADER,
  isRetryable,
  retryDelayMs,
  SIGNATURE_HEADER,
  signatureOf,
  TIMESTAMP_HEADER,
  type AlertNotification,
  type WebhookTarget,
} from '../domain/alert-delivery';

/** Deliveries waiting or being sent at once; one more is dropped (counted) rather than queued without bound. */
export const DELIVERIES_PENDING_MAX = 1_000;
/** Deliveries remembered for GET /alerts/deliveries. */
export const DELIVERIES_REMEMBERED = 200;
const RESPONSE_DRAIN_MAX_BYTES = 64 * 1024;

export type DeliveryOutcome = 'delivered' | 'retried' | 'failed' | 'dropped';

export interface DeliveryRecord {
  readonly id: string;
  readonly webhook: string;
  readonly status: AlertNotification['status'];
  readonly alertId: string;
  state: 'sending' | 'waiting' | 'delivered' | 'failed' | 'dropped';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  readonly queuedAt: string;
  finishedAt: string | null;
}

/**
 * Sends alert notifications to webhooks: one POST of JSON per alert change, signed with the
 * webhook's secret (X-Cairn-Signature: sha256=<hex> of "<X-Cairn-Timestamp>.<body>"), carrying
 * X-Cairn-Delivery (the same id on every attempt, for receivers to drop repeats). A failure
 * (no answer, 408, 429, 5xx) is tried again after a doubling, capped backoff until the webhook's
 * attempts are used up; other 4xx are not retried. Pending deliveries live in memory: a restart
 * loses them (the next leader re-sends what is firing).
 */
@Injectable()
export class WebhookDeliveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AlertWebhooks');
  private readonly agent = new Agent({ connections: 8 });
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly recent: DeliveryRecord[] = [];
  private outcomes!: Counter<'webhook' | 'outcome'>;

  constructor(private readonly metrics: MetricsService) {}

  onApplicationBootstrap(): void {
    this.outcomes = new Counter({
      name: 'cairn_alert_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retried (an attempt failed, another follows), failed (attempts used up or refused), dropped (too many pending)',
      labelNames: ['webhook', 'outcome'],
      registers: [this.metrics.registry],
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close();
  }

  get pending(): number {
    return this.inFlight.size;
  }

  deliveries(): readonly DeliveryRecord[] {
    return [...this.recent].reverse();
  }

  send(target: WebhookTarget, notification: AlertNotification): void {
    const record: DeliveryRecord = {
      id: notification.id,
      webhook: target.name,
      status: notification.status,
      alertId: notification.alert.id,
      state: 'sending',
      attempts: 0,
      lastStatus: null,
      lastError: null,
      nextAttemptAt: null,
      queuedAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.remember(record);
    if (this.stopping.signal.aborted || this.inFlight.size >= DELIVERIES_PENDING_MAX) {
      this.finish(record, 'dropped', 'dropped');
      this.logger.warn(`webhook ${target.name}: dropped ${notification.id} (${this.inFlight.size} deliveries pending)`);
      return;
    }
    const task = this.deliver(target, notification, record).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async deliver(target: WebhookTarget, notification: AlertNotification, record: DeliveryRecord): Promise<void> {
    const body = JSON.stringify(notification);
    for (;;) {
      record.attempts++;
      record.state = 'sending';
      record.nextAttemptAt = null;
      const { status, error } = await this.attempt(target, notification, body, record.attempts);
      record.lastStatus = status;
      record.lastError = error;
      if (status !== null && status >= 200 && status < 300) return this.finish(record, 'delivered', 'delivered');
      const delayMs = isRetryable(status) ? retryDelayMs(record.attempts, target.retry) : null;
      const why = error ?? `answered ${status}`;
      if (delayMs === null || this.stopping.signal.aborted) {
        this.logger.warn(`webhook ${target.name}: gave up on ${notification.id} after ${record.attempts} attempt(s): ${why}`);
        return this.finish(record, 'failed', 'failed');
      }
      this.outcomes.inc({ webhook: target.name, outcome: 'retried' });
      this.logger.log(`webhook ${target.name}: ${notification.id} attempt ${record.attempts} failed (${why}); again in ${delayMs} ms`);
      record.state = 'waiting';
      record.nextAttemptAt = new Date(Date.now() + delayMs).toISOString();
      if (!(await this.sleep(delayMs))) return this.finish(record, 'failed', 'failed');
    }
  }

  private async attempt(target: WebhookTarget, notification: AlertNotification, body: string, attempt: number): Promise<{ status: number | null; error: string | null }> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'cairn-monitoring',
      [DELIVERY_HEADER]: notification.id,
      [ATTEMPT_HEADER]: String(attempt),
      [EVENT_HEADER]: notification.status,
      [TIMESTAMP_HEADER]: String(timestamp),
      ...(target.secret ? { [SIGNATURE_HEADER]: signatureOf(target.secret, timestamp, body) } : {}),
    };
    try {
      const res = await request(target.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(target.timeoutMs)]),
      });
      let drained = 0;
      for await (const chunk of res.body) {
        drained += (chunk as Buffer).length;
        if (drained > RESPONSE_DRAIN_MAX_BYTES) {
          res.body.destroy();
          break;
        }
      }
      return { status: res.statusCode, error: null };
    } catch (error) {
      return { status: null, error: (error as Error).message || String(error) };
    }
  }

  private sleep(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private finish(record: DeliveryRecord, state: 'delivered' | 'failed' | 'dropped', outcome: DeliveryOutcome): void {
    record.state = state;
    record.finishedAt = new Date().toISOString();
    this.outcomes?.inc({ webhook: record.webhook, outcome });
  }

  private remember(record: DeliveryRecord): void {
    this.recent.push(record);
    if (this.recent.length > DELIVERIES_REMEMBERED) this.recent.shift();
  }
}
