import { parse } from 'yaml';
import { ALERT_RULE_KINDS, ALERT_SEVERITIES, type AlertRule, type AlertRuleKind, type AlertSeverity } from './alert-rules';
import { DEFAULT_RETRY_POLICY, type WebhookTarget } from './alert-delivery';

/**
 * The alert rules file (CAIRN_ALERT_RULES_FILE, YAML; docs/alerts.md): rules and the webhooks
 * their alerts go to. Everything is checked when monitoring starts; a problem is reported with
 * where it is (`rules[2] (disk-full): percent must be …`), never skipped.
 */

export interface AlertsConfig {
  readonly rules: readonly AlertRule[];
  readonly webhooks: readonly WebhookTarget[];
}

export type AlertsConfigResult = { readonly ok: true; readonly config: AlertsConfig } | { readonly ok: false; readonly problems: readonly string[] };

export const RULES_MAX = 200;
export const WEBHOOKS_MAX = 20;
/** The longest `for`, timeout or backoff a file may set. */
const DURATION_MAX_MS = 7 * 24 * 60 * 60 * 1000;
const RETRY_ATTEMPTS_MAX = 50;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const SECRET_MIN_CHARS = 16;

const MINUTE_MS = 60_000;

/** The threshold field of each kind, in the file's words. */
const THRESHOLD_FIELD: Readonly<Record<AlertRuleKind, { readonly field: string; readonly type: 'percent' | 'count' | 'duration' } | null>> = {
  'node-down': null,
  'disk-usage-above': { field: 'percent', type: 'percent' },
  'under-replicated-bytes-above': { field: 'bytes', type: 'count' },
  'scrub-coverage-below': { field: 'percent', type: 'percent' },
  'error-rate-above': { field: 'percent', type: 'percent' },
  'p99-latency-above': { field: 'latency', type: 'duration' },
  'projection-lag-above': { field: 'events', type: 'count' },
  'replication-lag-above': { field: 'lag', type: 'duration' },
  'replication-factor-mismatch': null,
};

const RULE_FIELDS = ['name', 'kind', 'for', 'severity', 'services', 'labels', 'summary', 'minRequestsPerSecond'];
const WEBHOOK_FIELDS = ['name', 'url', 'secret', 'secretEnv', 'timeout', 'retry', 'send', 'minSeverity'];
const RETRY_FIELDS = ['attempts', 'initialBackoff', 'maxBackoff'];
const DEFAULT_MIN_REQUESTS_PER_SECOND = 1;
const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;

function rule(name: string, kind: AlertRuleKind, threshold: number, forMs: number, severity: AlertSeverity, extra: Partial<AlertRule> = {}): AlertRule {
  return { name, kind, threshold, forMs, severity, services: [], minRequestsPerSecond: DEFAULT_MIN_REQUESTS_PER_SECOND, labels: {}, ...extra };
}

/** The rules in force when no file is given, or a file has no `rules`. */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  rule('node-down', 'node-down', 0, 0, 'critical'),
  rule('disk-usage-high', 'disk-usage-above', 85, 5 * MINUTE_MS, 'warning'),
  rule('disk-usage-critical', 'disk-usage-above', 95, MINUTE_MS, 'critical'),
  rule('under-replicated-data', 'under-replicated-bytes-above', 0, 15 * MINUTE_MS, 'warning'),
  rule('scrub-coverage-low', 'scrub-coverage-below', 80, 60 * MINUTE_MS, 'warning'),
  rule('error-rate-high', 'error-rate-above', 5, 5 * MINUTE_MS, 'warning'),
  rule('p99-latency-high', 'p99-latency-above', 2_000, 10 * MINUTE_MS, 'warning'),
  rule('projection-lag-high', 'projection-lag-above', 10_000, 5 * MINUTE_MS, 'warning'),
  rule('replication-lag-high', 'replication-lag-above', 5 * MINUTE_MS, 5 * MINUTE_MS, 'warning'),
  rule('replication-factor-mismatch', 'replication-factor-mismatch', 0, 2 * MINUTE_MS, 'critical'),
];

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS };

/** "500ms", "30s", "5m", "1h", "1d", or a number of milliseconds. null when it is neither. */
export function parseDurationMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) return null;
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2]]);
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the file's text; `env` supplies the secrets webhooks name with `secretEnv`. */
export function parseAlertsConfig(text: string, env: Readonly<Record<string, string | undefined>> = {}): AlertsConfigResult {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    return { ok: false, problems: [`not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isObject(doc)) return { ok: false, problems: ['must be a mapping with `rules` and `webhooks`'] };
  const problems: string[] = [];
  for (const key of Object.keys(doc)) if (key !== 'rules' && key !== 'webhooks') problems.push(`unknown field "${key}" (expected rules, webhooks)`);
  const rules = doc['rules'] === undefined ? DEFAULT_ALERT_RULES : parseRules(doc['rules'], problems);
  const webhooks = doc['webhooks'] === undefined ? [] : parseWebhooks(doc['webhooks'], env, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: { rules, webhooks } };
}

function parseRules(value: unknown, problems: string[]): AlertRule[] {
  if (!Array.isArray(value)) {
    problems.push('rules must be a list');
    return [];
  }
  if (value.length > RULES_MAX) problems.push(`rules: at most ${RULES_MAX}`);
  const out: AlertRule[] = [];
  const names = new Set<string>();
  value.forEach((raw, index) => {
    const where = `rules[${index}]${isObject(raw) && typeof raw['name'] === 'string' ? ` (${raw['name']})` : ''}`;
    const problem = (text: string) => problems.push(`${where}: ${text}`);
    if (!isObject(raw)) return problem('must be a mapping');
    const kind = raw['kind'];
    if (typeof kind !== 'string' || !(ALERT_RULE_KINDS as readonly string[]).includes(kind)) return problem(`kind must be one of ${ALERT_RULE_KINDS.join(', ')}`);
    const k = kind as AlertRuleKind;
    const thresholdField = THRESHOLD_FIELD[k];
    for (const key of Object.keys(raw)) if (!RULE_FIELDS.includes(key) && key !== thresholdField?.field) problem(`unknown field "${key}"${thresholdField ? ` (a ${k} rule's threshold is "${thresholdField.field}")` : ''}`);
    const name = raw['name'];
    if (typeof name !== 'string' || !NAME.test(name)) problem('name must be lowercase letters, digits and "-"');
    else if (names.has(name)) problem('name is used by an earlier rule');
    else names.add(name);
    let threshold = 0;
    if (thresholdField) {
      const t = raw[thresholdField.field];
      if (thresholdField.type === 'duration') {
        const ms = parseDurationMs(t);
        if (ms === null || ms > DURATION_MAX_MS) problem(`${thresholdField.field} must be a duration such as 500ms, 2s or 5m`);
        else threshold = ms;
      } else if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || (thresholdField.type === 'percent' && t > 100)) {
        problem(`${thresholdField.field} must be a number${thresholdField.type === 'percent' ? ' from 0 to 100' : ' of 0 or more'}`);
      } else threshold = t;
    }
    let forMs = 0;
    if (raw['for'] !== undefined) {
      const ms = parseDurationMs(raw['for']);
      if (ms === null || ms > DURATION_MAX_MS) problem('for must be a duration such as 30s, 5m or 1h');
      else forMs = ms;
    }
    const severity = raw['severity'] ?? 'warning';
    if (typeof severity !== 'string' || !(ALERT_SEVERITIES as readonly string[]).includes(severity)) problem(`severity must be one of ${ALERT_SEVERITIES.join(', ')}`);
    const services = raw['services'] ?? [];
    if (!Array.isArray(services) || services.some((s) => typeof s !== 'string' || !NAME.test(s))) problem('services must be a list of service names');
    const labels = raw['labels'] ?? {};
    if (!isObject(labels) || Object.entries(labels).some(([key, v]) => !LABEL_NAME.test(key) || typeof v !== 'string')) problem('labels must map label names (letters, digits, "_") to strings');
    const summary = raw['summary'];
    if (summary !== undefined && typeof summary !== 'string') problem('summary must be a string');
    const minRps = raw['minRequestsPerSecond'] ?? DEFAULT_MIN_REQUESTS_PER_SECOND;
    if (typeof minRps !== 'number' || !(minRps >= 0)) problem('minRequestsPerSecond must be a number of 0 or more');
    out.push({
      name: String(name),
      kind: k,
      threshold,
      forMs,
      severity: severity as AlertSeverity,
      services: Array.isArray(services) ? (services as string[]) : [],
      minRequestsPerSecond: Number(minRps),
      labels: isObject(labels) ? (labels as Record<string, string>) : {},
      ...(typeof summary === 'string' ? { summary } : {}),
    });
  });
  return out;
}

function parseWebhooks(value: unknown, env: Readonly<Record<string, string | undefined>>, problems: string[]): WebhookTarget[] {
  if (!Array.isArray(value)) {
    problems.push('webhooks must be a list');
    return [];
  }
  if (value.length > WEBHOOKS_MAX) problems.push(`webhooks: at most ${WEBHOOKS_MAX}`);
  const out: WebhookTarget[] = [];
  const names = new Set<string>();
  value.forEach((raw, index) => {
    const where = `webhooks[${index}]${isObject(raw) && typeof raw['name'] === 'string' ? ` (${raw['name']})` : ''}`;
    const problem = (text: string) => problems.push(`${where}: ${text}`);
    if (!isObject(raw)) return problem('must be a mapping');
    for (const key of Object.keys(raw)) if (!WEBHOOK_FIELDS.includes(key)) problem(`unknown field "${key}"`);
    const name = raw['name'];
    if (typeof name !== 'string' || !NAME.test(name)) problem('name must be lowercase letters, digits and "-"');
    else if (names.has(name)) problem('name is used by an earlier webhook');
    else names.add(name);
    const url = raw['url'];
    let urlOk = false;
    if (typeof url === 'string') {
      try {
        urlOk = ['http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        urlOk = false;
      }
    }
    if (!urlOk) problem('url must be an http:// or https:// URL');
    let secret: string | null = null;
    if (raw['secret'] !== undefined && raw['secretEnv'] !== undefined) problem('give secret or secretEnv, not both');
    else if (raw['secret'] !== undefined) {
      if (typeof raw['secret'] !== 'string' || raw['secret'].length < SECRET_MIN_CHARS) problem(`secret must be a string of at least ${SECRET_MIN_CHARS} characters`);
      else secret = raw['secret'];
    } else if (raw['secretEnv'] !== undefined) {
      const variable = raw['secretEnv'];
      if (typeof variable !== 'string' || !ENV_NAME.test(variable)) problem('secretEnv must name an environment variable');
      else if ((env[variable] ?? '').length < SECRET_MIN_CHARS) problem(`secretEnv: ${variable} must be set to at least ${SECRET_MIN_CHARS} characters`);
      else secret = env[variable] as string;
    }
    let timeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS;
    if (raw['timeout'] !== undefined) {
      const ms = parseDurationMs(raw['timeout']);
      if (ms === null || ms < 1 || ms > 10 * MINUTE_MS) problem('timeout must be a duration from 1ms to 10m');
      else timeoutMs = ms;
    }
    let retry = DEFAULT_RETRY_POLICY;
    if (raw['retry'] !== undefined) {
      const r = raw['retry'];
      if (!isObject(r)) problem('retry must be a mapping (attempts, initialBackoff, maxBackoff)');
      else {
        for (const key of Object.keys(r)) if (!RETRY_FIELDS.includes(key)) problem(`retry: unknown field "${key}"`);
        const attempts = r['attempts'] ?? DEFAULT_RETRY_POLICY.maxAttempts;
        if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1 || attempts > RETRY_ATTEMPTS_MAX) problem(`retry.attempts must be a whole number from 1 to ${RETRY_ATTEMPTS_MAX}`);
        const initial = r['initialBackoff'] === undefined ? DEFAULT_RETRY_POLICY.initialBackoffMs : parseDurationMs(r['initialBackoff']);
        if (initial === null || initial < 1 || initial > DURATION_MAX_MS) problem('retry.initialBackoff must be a duration such as 1s');
        const max = r['maxBackoff'] === undefined ? Math.max(DEFAULT_RETRY_POLICY.maxBackoffMs, initial ?? 0) : parseDurationMs(r['maxBackoff']);
        if (max === null || max > DURATION_MAX_MS) problem('retry.maxBackoff must be a duration such as 1m');
        else if (initial !== null && max < initial) problem('retry.maxBackoff must not be shorter than retry.initialBackoff');
        retry = { maxAttempts: Number(attempts), initialBackoffMs: initial ?? 0, maxBackoffMs: max ?? 0 };
      }
    }
    const send = raw['send'] ?? ['firing', 'resolved'];
    if (!Array.isArray(send) || send.length === 0 || send.some((s) => s !== 'firing' && s !== 'resolved')) problem('send must list firing, resolved or both');
    const minSeverity = raw['minSeverity'] ?? 'info';
    if (typeof minSeverity !== 'string' || !(ALERT_SEVERITIES as readonly string[]).includes(minSeverity)) problem(`minSeverity must be one of ${ALERT_SEVERITIES.join(', ')}`);
    out.push({
      name: String(name),
      url: String(url),
      secret,
      timeoutMs,
      retry,
      sendFiring: Array.isArray(send) && send.includes('firing'),
      sendResolved: Array.isArray(send) && send.includes('resolved'),
      minSeverity: minSeverity as AlertSeverity,
    });
  });
  return out;
}
