import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_RETRY_POLICY } from './alert-delivery';
import { ALERT_RULE_KINDS } from './alert-rules';
import { DEFAULT_ALERT_RULES, parseAlertsConfig, parseDurationMs, type AlertsConfig } from './alert-rules-file';

const ok = (text: string, env: Record<string, string> = {}): AlertsConfig => {
  const result = parseAlertsConfig(text, env);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result.config;
};
const problems = (text: string, env: Record<string, string> = {}): readonly string[] => {
  const result = parseAlertsConfig(text, env);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
};

describe('the alert rules file', () => {
  it('reads every kind of rule with its threshold in the file’s words', () => {
    const config = ok(`
rules:
  - { name: down, kind: node-down, severity: critical }
  - { name: disk, kind: disk-usage-above, percent: 90, for: 5m, services: [storage], labels: { team: storage } }
  - { name: under, kind: under-replicated-bytes-above, bytes: 1048576, for: 15m }
  - { name: scrub, kind: scrub-coverage-below, percent: 80, for: 1h }
  - { name: errors, kind: error-rate-above, percent: 2.5, for: 30s, minRequestsPerSecond: 5 }
  - { name: slow, kind: p99-latency-above, latency: 500ms, for: 10m, summary: "{{service}} is slow" }
  - { name: lag, kind: projection-lag-above, events: 1000 }
  - { name: regions, kind: replication-lag-above, lag: 2m }
`);
    expect(config.rules.map((r) => [r.name, r.kind, r.threshold, r.forMs])).toEqual([
      ['down', 'node-down', 0, 0],
      ['disk', 'disk-usage-above', 90, 300_000],
      ['under', 'under-replicated-bytes-above', 1_048_576, 900_000],
      ['scrub', 'scrub-coverage-below', 80, 3_600_000],
      ['errors', 'error-rate-above', 2.5, 30_000],
      ['slow', 'p99-latency-above', 500, 600_000],
      ['lag', 'projection-lag-above', 1000, 0],
      ['regions', 'replication-lag-above', 120_000, 0],
    ]);
    expect(config.rules[0].severity).toBe('critical');
    expect(config.rules[1]).toMatchObject({ severity: 'warning', services: ['storage'], labels: { team: 'storage' } });
    expect(config.rules[4].minRequestsPerSecond).toBe(5);
    expect(config.rules[5].summary).toBe('{{service}} is slow');
    expect(config.webhooks).toEqual([]);
  });

  it('reads webhooks with their secret, retry policy and what they take', () => {
    const config = ok(
      `
rules: []
webhooks:
  - name: ops
    url: https://hooks.example.com/cairn?token=abc
    secret: 0123456789abcdef0123
    timeout: 2s
    retry: { attempts: 3, initialBackoff: 200ms, maxBackoff: 1s }
    send: [firing]
    minSeverity: critical
  - name: chat
    url: http://127.0.0.1:8080/
    secretEnv: CHAT_SECRET
`,
      { CHAT_SECRET: 'from-the-environment-secret' },
    );
    expect(config.webhooks).toEqual([
      { name: 'ops', url: 'https://hooks.example.com/cairn?token=abc', secret: '0123456789abcdef0123', timeoutMs: 2_000, retry: { maxAttempts: 3, initialBackoffMs: 200, maxBackoffMs: 1_000 }, sendFiring: true, sendResolved: false, minSeverity: 'critical' },
      { name: 'chat', url: 'http://127.0.0.1:8080/', secret: 'from-the-environment-secret', timeoutMs: 5_000, retry: DEFAULT_RETRY_POLICY, sendFiring: true, sendResolved: true, minSeverity: 'info' },
    ]);
  });

  it('keeps the built-in rules when the file gives none, and for an empty file', () => {
    expect(ok('webhooks: []').rules).toBe(DEFAULT_ALERT_RULES);
    expect(ok('').rules).toBe(DEFAULT_ALERT_RULES);
    // Every kind has a default rule.
    expect(new Set(DEFAULT_ALERT_RULES.map((r) => r.kind))).toEqual(new Set(ALERT_RULE_KINDS));
  });

  it.each<[string, string, RegExp]>([
    ['not YAML', 'rules: [', /^not valid YAML/],
    ['not a mapping', '- a\n- b', /must be a mapping/],
    ['an unknown top-level field', 'rule: []', /unknown field "rule"/],
    ['an unknown kind', 'rules: [{ name: x, kind: disk-full }]', /rules\[0\] \(x\): kind must be one of node-down, disk-usage-above/],
    ['a threshold under another kind’s word', 'rules: [{ name: x, kind: disk-usage-above, bytes: 5 }]', /rules\[0\] \(x\): unknown field "bytes" \(a disk-usage-above rule's threshold is "percent"\)/],
    ['a percent over 100', 'rules: [{ name: x, kind: disk-usage-above, percent: 120 }]', /percent must be a number from 0 to 100/],
    ['a missing threshold', 'rules: [{ name: x, kind: projection-lag-above }]', /events must be a number of 0 or more/],
    ['a bad duration', 'rules: [{ name: x, kind: node-down, for: soon }]', /for must be a duration/],
    ['a bad latency', 'rules: [{ name: x, kind: p99-latency-above, latency: 2 seconds }]', /latency must be a duration/],
    ['a duplicate name', 'rules: [{ name: x, kind: node-down }, { name: x, kind: node-down }]', /rules\[1\] \(x\): name is used by an earlier rule/],
    ['a bad name', 'rules: [{ name: Disk Full, kind: node-down }]', /name must be lowercase/],
    ['a bad severity', 'rules: [{ name: x, kind: node-down, severity: page }]', /severity must be one of critical, warning, info/],
    ['bad labels', 'rules: [{ name: x, kind: node-down, labels: { "a-b": c } }]', /labels must map/],
    ['a webhook without a URL', 'webhooks: [{ name: w }]', /webhooks\[0\] \(w\): url must be an http/],
    ['a webhook with a short secret', 'webhooks: [{ name: w, url: "http://x/", secret: short }]', /secret must be a string of at least 16/],
    ['a webhook secret from an unset variable', 'webhooks: [{ name: w, url: "http://x/", secretEnv: NOT_SET }]', /secretEnv: NOT_SET must be set/],
    ['both secret and secretEnv', 'webhooks: [{ name: w, url: "http://x/", secret: 0123456789abcdef, secretEnv: X }]', /not both/],
    ['too many attempts', 'webhooks: [{ name: w, url: "http://x/", retry: { attempts: 1000 } }]', /retry.attempts must be a whole number from 1 to 50/],
    ['a max backoff under the initial one', 'webhooks: [{ name: w, url: "http://x/", retry: { initialBackoff: 10s, maxBackoff: 1s } }]', /must not be shorter/],
    ['sending nothing', 'webhooks: [{ name: w, url: "http://x/", send: [] }]', /send must list firing, resolved or both/],
  ])('refuses %s, saying where', (_name, text, expected) => {
    expect(problems(text).join('\n')).toMatch(expected);
  });

  it('reports every problem, not only the first', () => {
    expect(problems('rules: [{ name: a, kind: nope }, { name: b, kind: node-down, for: never }]\nwebhooks: [{ name: w }]')).toHaveLength(3);
  });

  it('reads the example file in docker/', () => {
    const text = readFileSync(path.join(__dirname, '../../../../docker/alert-rules.example.yaml'), 'utf8');
    const config = ok(text, { CAIRN_ALERT_WEBHOOK_SECRET: 'an-example-secret-of-some-length' });
    expect(config.rules.length).toBeGreaterThan(5);
    expect(config.webhooks).toHaveLength(1);
  });

  it.each<[unknown, number | null]>([
    ['500ms', 500], ['2s', 2_000], ['1.5s', 1_500], ['5m', 300_000], ['1h', 3_600_000], ['1d', 86_400_000], [250, 250],
    ['5', null], ['-1s', null], ['1w', null], [null, null], [-5, null],
  ])('reads the duration %p as %p ms', (given, expected) => {
    expect(parseDurationMs(given)).toBe(expected);
  });
});
