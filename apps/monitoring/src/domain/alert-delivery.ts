import { createHmac, timingSafeEqual } from 'node:crypto';
import { ALERT_SEVERITIES, type AlertRecord, type AlertSeverity, type AlertTransition } from './alert-rules';

/**
 * What a webhook receives for a firing or resolved alert, and how it is signed and retried
 * (docs/alerts.md). Pure: the caller sends, sleeps and keeps the clock.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, initialBackoffMs: 1_000, maxBackoffMs: 60_000 };

export interface WebhookTarget {
  readonly name: string;
  readonly url: string;
  /** Signs each delivery (HMAC-SHA256) when set. */
  readonly secret: string | null;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly sendFiring: boolean;
  readonly sendResolved: boolean;
  /** Alerts less severe than this are not sent. */
  readonly minSeverity: AlertSeverity;
}

export const SIGNATURE_HEADER = 'x-cairn-signature';
export const TIMESTAMP_HEADER = 'x-cairn-timestamp';
export const DELIVERY_HEADER = 'x-cairn-delivery';
export const ATTEMPT_HEADER = 'x-cairn-delivery-attempt';
export const EVENT_HEADER = 'x-cairn-event';

export interface AlertNotification {
  /** The same on every attempt and from every sender of this change: receivers drop repeats by it. */
  readonly id: string;
  readonly status: 'firing' | 'resolved';
  readonly region: string;
  /** The monitoring instance that sent it. */
  readonly sentBy: string;
  readonly alert: {
    readonly id: string;
    readonly fingerprint: string;
    readonly rule: string;
    readonly kind: string;
    readonly severity: AlertSeverity;
    readonly labels: Readonly<Record<string, string>>;
    readonly summary: string;
    readonly value: number;
    readonly threshold: number;
    readonly unit: string;
    readonly activeSince: string;
    readonly firingSince: string | null;
    readonly resolvedAt: string | null;
  };
}

export function alertView(alert: AlertRecord) {
  return {
    id: alert.id,
    fingerprint: alert.fingerprint,
    rule: alert.rule,
    kind: alert.kind,
    severity: alert.severity,
    state: alert.state,
    labels: alert.labels,
    summary: alert.summary,
    value: alert.value,
    threshold: alert.threshold,
    unit: alert.unit,
    activeSince: new Date(alert.activeSinceMs).toISOString(),
    firingSince: alert.firingSinceMs === null ? null : new Date(alert.firingSinceMs).toISOString(),
    resolvedAt: alert.resolvedAtMs === null ? null : new Date(alert.resolvedAtMs).toISOString(),
  };
}

export function notificationOf(transition: AlertTransition, region: string, sentBy: string): AlertNotification {
  const { state: _state, ...alert } = alertView(transition.alert);
  return { id: `${transition.alert.id}.${transition.type}`, status: transition.type, region, sentBy, alert };
}

/** Whether the target takes this change at all. */
export function targetWants(target: WebhookTarget, transition: AlertTransition): boolean {
  if (transition.type === 'firing' ? !target.sendFiring : !target.sendResolved) return false;
  return ALERT_SEVERITIES.indexOf(transition.alert.severity) <= ALERT_SEVERITIES.indexOf(target.minSeverity);
}

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"): the time is signed too, so an old delivery cannot be replayed as new. */
export function signatureOf(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): the signature matches and the time is within `toleranceSeconds` of now. */
export function verifySignature(secret: string, header: string | undefined, timestampSeconds: number, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!header || !Number.isFinite(timestampSeconds) || Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureOf(secret, timestampSeconds, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The wait after the n-th failed attempt (1-based): doubling from the initial backoff, capped; null when no attempt is left. */
export function retryDelayMs(failedAttempts: number, policy: RetryPolicy): number | null {
  if (failedAttempts >= policy.maxAttempts) return null;
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, failedAttempts - 1));
}

/** 2xx is delivered; 408, 429 and 5xx (and no answer) are worth another try; any other 4xx is not. */
export function isRetryable(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}
