import type { PromSample } from './prometheus-text';

/**
 * Request rate, 5xx ratio and p99 latency per service, from the `http_request_duration_seconds`
 * histogram every service serves (libs/service-kit metrics.service.ts): each scrape of an instance
 * is reduced to one snapshot (counters summed over method, route and status), and the figures are
 * the difference between an instance's oldest and newest snapshot within the window, summed over
 * the service's instances — what Prometheus' rate() and histogram_quantile() would say.
 */

export const HTTP_DURATION_METRIC = 'http_request_duration_seconds';
/** Probes and scrapes (monitoring's own among them) are not the service's traffic. */
export const ROUTES_NOT_COUNTED: ReadonlySet<string> = new Set(['/metrics', '/health', '/health/live']);

export interface HttpSnapshot {
  readonly atMs: number;
  readonly requests: number;
  readonly errors: number;
  /** Cumulative counts per upper bound (seconds), ascending, +Inf last. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

export interface ServiceTraffic {
  readonly service: string;
  readonly instances: number;
  readonly windowSeconds: number;
  readonly requestsPerSecond: number;
  /** 5xx answers over all answers; null without requests. */
  readonly errorRatio: number | null;
  readonly p50Seconds: number | null;
  readonly p99Seconds: number | null;
}

export function httpSnapshotOf(samples: readonly PromSample[], atMs: number): HttpSnapshot {
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (!s.name.startsWith(HTTP_DURATION_METRIC) || ROUTES_NOT_COUNTED.has(s.labels['route'] ?? '')) continue;
    if (!Number.isFinite(s.value)) continue;
    if (s.name === `${HTTP_DURATION_METRIC}_count`) {
      requests += s.value;
      if (Number(s.labels['status']) >= 500) errors += s.value;
    } else if (s.name === `${HTTP_DURATION_METRIC}_bucket`) {
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      if (!Number.isNaN(le)) buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
  }
  return { atMs, requests, errors, buckets: [...buckets].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count })) };
}

/** newest − oldest; a counter that went down means the instance restarted, and counts from zero since. */
export function snapshotDelta(oldest: HttpSnapshot, newest: HttpSnapshot): HttpSnapshot {
  const reset = newest.requests < oldest.requests || newest.errors < oldest.errors;
  if (reset) return newest;
  const before = new Map(oldest.buckets.map((b) => [b.le, b.count]));
  return {
    atMs: newest.atMs - oldest.atMs,
    requests: newest.requests - oldest.requests,
    errors: newest.errors - oldest.errors,
    buckets: newest.buckets.map((b) => ({ le: b.le, count: Math.max(0, b.count - (before.get(b.le) ?? 0)) })),
  };
}

/** histogram_quantile: linear within the bucket the rank falls in; the highest finite bound when it falls in +Inf. */
export function histogramQuantile(q: number, buckets: readonly { readonly le: number; readonly count: number }[]): number | null {
  if (buckets.length === 0) return null;
  const total = buckets[buckets.length - 1].count;
  if (!(total > 0)) return null;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return previousLe;
      const inBucket = b.count - previousCount;
      return inBucket <= 0 ? b.le : previousLe + ((b.le - previousLe) * (rank - previousCount)) / inBucket;
    }
    previousLe = b.le;
    previousCount = b.count;
  }
  return previousLe;
}

/**
 * Per service, from each instance's snapshots (oldest first). An instance with fewer than two
 * snapshots adds nothing yet; a service none of whose instances has two is left out.
 */
export function serviceTraffic(history: readonly { readonly service: string; readonly snapshots: readonly HttpSnapshot[] }[]): ServiceTraffic[] {
  const byService = new Map<string, { instances: number; requests: number; errors: number; rate: number; windowMs: number; buckets: Map<number, number> }>();
  for (const { service, snapshots } of history) {
    if (snapshots.length < 2) continue;
    const first = snapshots[0];
    const last = snapshots[snapshots.length - 1];
    const delta = snapshotDelta(first, last);
    const spanMs = delta === last ? last.atMs - first.atMs : delta.atMs;
    if (spanMs <= 0) continue;
    const acc = byService.get(service) ?? { instances: 0, requests: 0, errors: 0, rate: 0, windowMs: 0, buckets: new Map<number, number>() };
    acc.instances++;
    acc.requests += delta.requests;
    acc.errors += delta.errors;
    acc.rate += delta.requests / (spanMs / 1000);
    acc.windowMs = Math.max(acc.windowMs, spanMs);
    for (const b of delta.buckets) acc.buckets.set(b.le, (acc.buckets.get(b.le) ?? 0) + b.count);
    byService.set(service, acc);
  }
  return [...byService]
    .map(([service, acc]) => {
      const buckets = [...acc.buckets].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
      return {
        service,
        instances: acc.instances,
        windowSeconds: Math.round(acc.windowMs / 100) / 10,
        requestsPerSecond: acc.rate,
        errorRatio: acc.requests > 0 ? acc.errors / acc.requests : null,
        p50Seconds: acc.requests > 0 ? histogramQuantile(0.5, buckets) : null,
        p99Seconds: acc.requests > 0 ? histogramQuantile(0.99, buckets) : null,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}
