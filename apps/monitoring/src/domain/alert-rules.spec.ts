import { evaluateAlerts, fingerprintOf, initialAlertState, listAlerts, samplesOf, type AlertEngineState, type AlertInputs, type AlertRule, type AlertRuleKind } from './alert-rules';

const rule = (kind: AlertRuleKind, threshold: number, extra: Partial<AlertRule> = {}): AlertRule => ({
  name: `r-${kind}`,
  kind,
  threshold,
  forMs: 0,
  severity: 'warning',
  services: [],
  minRequestsPerSecond: 1,
  labels: {},
  ...extra,
});

const noData: AlertInputs = { instances: [], traffic: null, projectionLag: null, underReplicatedBytes: null, scrubCoverage: null, replicationLag: null };
const inputs = (over: Partial<AlertInputs>): AlertInputs => ({ ...noData, ...over });
const storage = (instance: string, usedPercent: number, status: 'up' | 'suspected' | 'down' = 'up') => ({
  service: 'storage',
  instance,
  status,
  disk: { capacityBytes: 1_000, freeBytes: 1_000 - usedPercent * 10 },
});

const withFactor = (service: string, instance: string, replicationFactor: number, status: 'up' | 'suspected' | 'down' = 'up') => ({ service, instance, status, replicationFactor });

describe('samplesOf: what each kind of rule reads', () => {
  it.each<[string, AlertRule, AlertInputs, ReturnType<typeof samplesOf>]>([
    ['node-down: one sample per instance, breached when down', rule('node-down', 0), inputs({ instances: [storage('s1', 1), storage('s2', 1, 'down')] }), [
      { labels: { service: 'storage', instance: 's1' }, value: 0, breached: false },
      { labels: { service: 'storage', instance: 's2' }, value: 1, breached: true },
    ]],
    ['node-down: suspected is not down', rule('node-down', 0), inputs({ instances: [storage('s1', 1, 'suspected')] }), [{ labels: { service: 'storage', instance: 's1' }, value: 0, breached: false }]],
    ['node-down: only the rule’s services', rule('node-down', 0, { services: ['metadata'] }), inputs({ instances: [storage('s1', 1, 'down')] }), []],
    ['disk: percent used over the threshold', rule('disk-usage-above', 90), inputs({ instances: [storage('s1', 95), storage('s2', 90)] }), [
      { labels: { service: 'storage', instance: 's1' }, value: 95, breached: true },
      { labels: { service: 'storage', instance: 's2' }, value: 90, breached: false },
    ]],
    ['disk: a down node’s stale figures and instances without a disk are left out', rule('disk-usage-above', 90), inputs({ instances: [storage('s1', 99, 'down'), { service: 'metadata', instance: 'm1', status: 'up' }] }), []],
    ['error rate: percent of 5xx, per service with enough traffic', rule('error-rate-above', 5), inputs({ traffic: [
      { service: 'access', requestsPerSecond: 10, errorRatio: 0.1, p99Seconds: 0.2 },
      { service: 'metadata', requestsPerSecond: 0.5, errorRatio: 1, p99Seconds: 0.2 },
    ] }), [{ labels: { service: 'access' }, value: 10, breached: true }]],
    ['p99: milliseconds', rule('p99-latency-above', 250), inputs({ traffic: [{ service: 'access', requestsPerSecond: 10, errorRatio: 0, p99Seconds: 0.2 }] }), [{ labels: { service: 'access' }, value: 200, breached: false }]],
    ['traffic not scraped yet: no data', rule('p99-latency-above', 250), noData, 'no-data'],
    ['projection lag: the largest per stream', rule('projection-lag-above', 100), inputs({ projectionLag: [
      { instance: 'm1', stream: 'META', events: 150 },
      { instance: 'm2', stream: 'META', events: 20 },
      { instance: 'm1', stream: 'CLUSTER', events: 0 },
    ] }), [
      { labels: { stream: 'META' }, value: 150, breached: true },
      { labels: { stream: 'CLUSTER' }, value: 0, breached: false },
    ]],
    ['under-replicated bytes: one region-wide sample', rule('under-replicated-bytes-above', 0), inputs({ underReplicatedBytes: 4096 }), [{ labels: {}, value: 4096, breached: true }]],
    ['scrub coverage: under the target, once a node’s first pass is done', rule('scrub-coverage-below', 80), inputs({ scrubCoverage: [
      { node: 'n1', coveredFraction: 0.5, firstPassDone: true },
      { node: 'n2', coveredFraction: 0.1, firstPassDone: false },
      { node: 'n3', coveredFraction: 0.9, firstPassDone: true },
    ] }), [
      { labels: { node: 'n1' }, value: 50, breached: true },
      { labels: { node: 'n3' }, value: 90, breached: false },
    ]],
    ['replication lag: no source yet', rule('replication-lag-above', 60_000), noData, 'no-data'],
    ['replication factor: the instances that disagree with most of the region', rule('replication-factor-mismatch', 0), inputs({ instances: [
      withFactor('access', 'a1', 3),
      withFactor('metadata', 'm1', 3),
      withFactor('access', 'a2', 1),
      withFactor('scheduler', 'sc1', 2, 'down'),
      { service: 'storage', instance: 's1', status: 'up', replicationFactor: null },
    ] }), [
      { labels: { service: 'access', instance: 'a1', expected: '3' }, value: 3, breached: false },
      { labels: { service: 'metadata', instance: 'm1', expected: '3' }, value: 3, breached: false },
      { labels: { service: 'access', instance: 'a2', expected: '3' }, value: 1, breached: true },
    ]],
    ['replication factor: on a tie the instances with fewer copies are flagged', rule('replication-factor-mismatch', 0), inputs({ instances: [withFactor('access', 'a1', 1), withFactor('metadata', 'm1', 3)] }), [
      { labels: { service: 'access', instance: 'a1', expected: '3' }, value: 1, breached: true },
      { labels: { service: 'metadata', instance: 'm1', expected: '3' }, value: 3, breached: false },
    ]],
    ['replication factor: a region in agreement, or with no instance reporting it, has nothing breached', rule('replication-factor-mismatch', 0), inputs({ instances: [withFactor('access', 'a1', 2), withFactor('metadata', 'm1', 2), storage('s1', 10)] }), [
      { labels: { service: 'access', instance: 'a1', expected: '2' }, value: 2, breached: false },
      { labels: { service: 'metadata', instance: 'm1', expected: '2' }, value: 2, breached: false },
    ]],
  ])('%s', (_name, r, given, expected) => {
    expect(samplesOf(r, given)).toEqual(expected);
  });
});

describe('evaluateAlerts: pending → firing → resolved', () => {
  const disk = rule('disk-usage-above', 90, { name: 'disk', forMs: 3_000, labels: { team: 'ops' } });
  const run = (steps: [number, AlertInputs][], rules: AlertRule[] = [disk]) => {
    let state: AlertEngineState = initialAlertState();
    const log: string[] = [];
    for (const [atMs, given] of steps) {
      const result = evaluateAlerts(rules, given, state, atMs);
      state = result.state;
      for (const t of result.transitions) log.push(`${atMs} ${t.type} ${t.alert.labels['instance'] ?? ''}`.trim());
    }
    return { state, log };
  };
  const full = inputs({ instances: [storage('s1', 95)] });
  const fine = inputs({ instances: [storage('s1', 50)] });

  it('fires only once the condition has held for `for`, then resolves when it clears', () => {
    const { state, log } = run([[0, full], [1_000, full], [2_999, full], [3_000, full], [4_000, full], [5_000, fine], [6_000, fine]]);
    expect(log).toEqual(['3000 firing s1', '5000 resolved s1']);
    expect(state.active.size).toBe(0);
    expect(state.resolved).toHaveLength(1);
    expect(state.resolved[0]).toMatchObject({ state: 'resolved', activeSinceMs: 0, firingSinceMs: 3_000, resolvedAtMs: 5_000, labels: { team: 'ops', service: 'storage', instance: 's1' } });
  });

  it('forgets a blip shorter than `for` without a word', () => {
    const { state, log } = run([[0, full], [2_000, fine], [2_500, full], [5_000, full], [5_499, full]]);
    expect(log).toEqual([]);
    expect([...state.active.values()].map((a) => [a.state, a.activeSinceMs])).toEqual([['pending', 2_500]]);
  });

  it('fires at once with for: 0, and a later occurrence is a new alert with a new id', () => {
    const now = rule('disk-usage-above', 90, { name: 'disk' });
    const { state, log } = run([[0, full], [1_000, fine], [2_000, full]], [now]);
    expect(log).toEqual(['0 firing s1', '1000 resolved s1', '2000 firing s1']);
    const [active] = state.active.values();
    expect(active.id).not.toBe(state.resolved[0].id);
    expect(active.fingerprint).toBe(state.resolved[0].fingerprint);
  });

  it('resolves an alert whose instance has gone (forgotten, or no longer reporting figures)', () => {
    const now = rule('disk-usage-above', 90, { name: 'disk' });
    expect(run([[0, full], [1_000, inputs({ instances: [] })]], [now]).log).toEqual(['0 firing s1', '1000 resolved s1']);
  });

  it('leaves alerts as they are while the rule’s source gives no data', () => {
    const lag = rule('projection-lag-above', 100, { name: 'lag' });
    const behind = inputs({ projectionLag: [{ instance: 'm1', stream: 'META', events: 500 }] });
    const { state, log } = run([[0, behind], [1_000, noData], [2_000, noData]], [lag]);
    expect(log).toEqual(['0 firing']);
    expect(state.rules.get('lag')?.health).toBe('no-data');
    expect([...state.active.values()][0].state).toBe('firing');
  });

  it('tracks each instance on its own and reports each rule’s health', () => {
    const now = rule('disk-usage-above', 90, { name: 'disk', forMs: 1_000 });
    const two = inputs({ instances: [storage('s1', 95), storage('s2', 99)] });
    const { state, log } = run([[0, two], [1_000, inputs({ instances: [storage('s1', 95), storage('s2', 10)] })], [1_500, inputs({ instances: [storage('s1', 95), storage('s2', 99)] })]], [now]);
    expect(log).toEqual(['1000 firing s1']);
    expect(state.rules.get('disk')?.health).toBe('firing');
    expect(listAlerts(state).map((a) => [a.labels['instance'], a.state])).toEqual([['s1', 'firing'], ['s2', 'pending']]);
  });

  it('keeps resolved alerts for the retention only, and at most resolvedMax', () => {
    const now = rule('disk-usage-above', 90, { name: 'disk' });
    let state = initialAlertState();
    const limits = { resolvedRetentionMs: 10_000, resolvedMax: 2, activeMax: 10 };
    for (let i = 0; i < 4; i++) {
      state = evaluateAlerts([now], full, state, i * 2_000, limits).state;
      state = evaluateAlerts([now], fine, state, i * 2_000 + 1_000, limits).state;
    }
    expect(state.resolved.map((a) => a.resolvedAtMs)).toEqual([5_000, 7_000]);
    state = evaluateAlerts([now], fine, state, 16_000, limits).state;
    expect(state.resolved.map((a) => a.resolvedAtMs)).toEqual([7_000]);
  });

  it('tracks at most activeMax conditions and counts the rest', () => {
    const many = inputs({ instances: [storage('s1', 95), storage('s2', 95), storage('s3', 95)] });
    const result = evaluateAlerts([rule('disk-usage-above', 90, { name: 'disk' })], many, initialAlertState(), 0, { resolvedRetentionMs: 1, resolvedMax: 1, activeMax: 2 });
    expect(result.state.active.size).toBe(2);
    expect(result.dropped).toBe(1);
  });

  it('fingerprints by rule and labels, whatever their order', () => {
    expect(fingerprintOf('disk', { a: '1', b: '2' })).toBe(fingerprintOf('disk', { b: '2', a: '1' }));
    expect(fingerprintOf('disk', { a: '1' })).not.toBe(fingerprintOf('disk2', { a: '1' }));
  });

  it('fills a rule’s summary template with labels, value and threshold', () => {
    const templated = rule('disk-usage-above', 90, { name: 'disk', summary: '{{instance}} at {{value}}% (limit {{ threshold }}%)' });
    const { state } = run([[0, full]], [templated]);
    expect([...state.active.values()][0].summary).toBe('s1 at 95% (limit 90%)');
  });

  it('names the disagreeing instance and the region’s replication factor', () => {
    const mismatch = rule('replication-factor-mismatch', 0);
    const { state } = run([[0, inputs({ instances: [withFactor('access', 'a1', 3), withFactor('metadata', 'm1', 3), withFactor('access', 'a2', 1)] })]], [mismatch]);
    expect([...state.active.values()].map((a) => a.summary)).toEqual(['service=access instance=a2 expected=3: runs with replication factor 1 where the region’s other instances run with 3']);
  });
});
