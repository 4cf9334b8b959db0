import { histogramQuantile, httpSnapshotOf, serviceTraffic, snapshotDelta, type HttpSnapshot } from './http-traffic';
import { parsePrometheusText } from './prometheus-text';

const LES = ['0.01', '0.1', '1', '+Inf'];

/** A scrape of one instance: `requests` per status, each [count per le bucket, non-cumulative]. */
function scrape(atMs: number, series: { route?: string; status: string; perBucket: number[] }[]): HttpSnapshot {
  const lines: string[] = [];
  for (const s of series) {
    const labels = `method="GET",route="${s.route ?? '/x'}",status="${s.status}"`;
    let cumulative = 0;
    s.perBucket.forEach((n, i) => {
      cumulative += n;
      lines.push(`http_request_duration_seconds_bucket{le="${LES[i]}",${labels}} ${cumulative}`);
    });
    lines.push(`http_request_duration_seconds_count{${labels}} ${cumulative}`);
    lines.push(`http_request_duration_seconds_sum{${labels}} 1`);
  }
  return httpSnapshotOf(parsePrometheusText(lines.join('\n')).samples, atMs);
}

describe('traffic from the HTTP duration histograms', () => {
  it('sums the series of one scrape, leaving out probes and scrapes', () => {
    const s = scrape(0, [
      { status: '200', perBucket: [5, 3, 0, 0] },
      { status: '503', perBucket: [0, 0, 2, 0] },
      { route: '/metrics', status: '200', perBucket: [100, 0, 0, 0] },
    ]);
    expect(s).toEqual({ atMs: 0, requests: 10, errors: 2, buckets: [{ le: 0.01, count: 5 }, { le: 0.1, count: 8 }, { le: 1, count: 10 }, { le: Infinity, count: 10 }] });
  });

  it('interpolates quantiles within a bucket, as histogram_quantile does', () => {
    const buckets = [{ le: 0.01, count: 50 }, { le: 0.1, count: 90 }, { le: 1, count: 100 }, { le: Infinity, count: 100 }];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.01);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.055);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.91);
    expect(histogramQuantile(0.99, [{ le: 0.1, count: 1 }, { le: Infinity, count: 100 }])).toBe(0.1);
    expect(histogramQuantile(0.99, [{ le: Infinity, count: 0 }])).toBeNull();
  });

  it('measures rate, 5xx ratio and p99 over the window, summed over a service’s instances', () => {
    const traffic = serviceTraffic([
      { service: 'access', snapshots: [scrape(0, [{ status: '200', perBucket: [10, 0, 0, 0] }]), scrape(10_000, [{ status: '200', perBucket: [10, 90, 0, 0] }, { status: '500', perBucket: [0, 0, 10, 0] }])] },
      { service: 'access', snapshots: [scrape(0, []), scrape(10_000, [{ status: '200', perBucket: [100, 0, 0, 0] }])] },
      { service: 'metadata', snapshots: [scrape(0, [])] },
    ]);
    expect(traffic).toHaveLength(1);
    const [access] = traffic;
    expect(access).toMatchObject({ service: 'access', instances: 2, windowSeconds: 10 });
    expect(access.requestsPerSecond).toBeCloseTo(20);
    expect(access.errorRatio).toBeCloseTo(10 / 200);
    // 200 requests: 100 under 10 ms, 90 under 100 ms, 10 under 1 s: the 198th is in the last bucket.
    expect(access.p99Seconds).toBeCloseTo(0.1 + 0.9 * (8 / 10));
    expect(access.p50Seconds).toBeCloseTo(0.01);
  });

  it('counts from zero after a restart (a counter went down)', () => {
    const before = scrape(0, [{ status: '200', perBucket: [100, 0, 0, 0] }]);
    const after = scrape(5_000, [{ status: '200', perBucket: [3, 0, 0, 0] }]);
    expect(snapshotDelta(before, after).requests).toBe(3);
    const grown = scrape(5_000, [{ status: '200', perBucket: [100, 7, 0, 0] }]);
    expect(snapshotDelta(before, grown)).toMatchObject({ requests: 7, errors: 0 });
  });

  it('has no error ratio or latency without requests', () => {
    const [idle] = serviceTraffic([{ service: 'sync', snapshots: [scrape(0, []), scrape(5_000, [])] }]);
    expect(idle).toMatchObject({ requestsPerSecond: 0, errorRatio: null, p99Seconds: null });
  });
});
