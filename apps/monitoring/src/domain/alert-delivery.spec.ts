import { createHmac } from 'node:crypto';
import { isRetryable, notificationOf, retryDelayMs, signatureOf, targetWants, verifySignature, type WebhookTarget } from './alert-delivery';
import type { AlertRecord } from './alert-rules';

const alert: AlertRecord = {
  id: 'abc-1', fingerprint: 'abc', rule: 'disk', kind: 'disk-usage-above', severity: 'warning', labels: { instance: 's1' }, state: 'firing',
  value: 95, threshold: 90, unit: 'percent', summary: 's1 full', activeSinceMs: 0, firingSinceMs: 1_000, resolvedAtMs: null,
};
const target: WebhookTarget = { name: 'w', url: 'http://x/', secret: 's'.repeat(16), timeoutMs: 1_000, retry: { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 300 }, sendFiring: true, sendResolved: true, minSeverity: 'warning' };

describe('alert delivery', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, and checks the time', () => {
    const body = '{"a":1}';
    expect(signatureOf('secret', 1_700_000_000, body)).toBe(`sha256=${createHmac('sha256', 'secret').update(`1700000000.${body}`).digest('hex')}`);
    const header = signatureOf('secret', 1_000, body);
    expect(verifySignature('secret', header, 1_000, body, 1_010)).toBe(true);
    expect(verifySignature('other', header, 1_000, body, 1_010)).toBe(false);
    expect(verifySignature('secret', header, 1_000, `${body} `, 1_010)).toBe(false);
    expect(verifySignature('secret', header, 1_000, body, 2_000)).toBe(false);
  });

  it('doubles the backoff up to its cap and stops after the last attempt', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, target.retry))).toEqual([100, 200, 300, null]);
  });

  it('retries no answer, 408, 429 and 5xx, not other 4xx', () => {
    expect([null, 408, 429, 500, 503, 400, 401, 404].map(isRetryable)).toEqual([true, true, true, true, true, false, false, false]);
  });

  it('names a delivery by the alert occurrence and the change, the same on every attempt', () => {
    const n = notificationOf({ type: 'firing', alert }, 'region-1', 'monitoring/m1');
    expect(n).toMatchObject({ id: 'abc-1.firing', status: 'firing', region: 'region-1', sentBy: 'monitoring/m1', alert: { id: 'abc-1', fingerprint: 'abc', value: 95, firingSince: '1970-01-01T00:00:01.000Z', resolvedAt: null } });
    expect(notificationOf({ type: 'resolved', alert }, 'region-1', 'monitoring/m1').id).toBe('abc-1.resolved');
  });

  it('sends a webhook only the changes and severities it takes', () => {
    expect(targetWants(target, { type: 'firing', alert })).toBe(true);
    expect(targetWants({ ...target, sendResolved: false }, { type: 'resolved', alert })).toBe(false);
    expect(targetWants({ ...target, minSeverity: 'critical' }, { type: 'firing', alert })).toBe(false);
    expect(targetWants({ ...target, minSeverity: 'info' }, { type: 'firing', alert: { ...alert, severity: 'critical' } })).toBe(true);
  });
});
