import { createHash } from 'node:crypto';

/**
 * Alert rules (docs/alerts.md): what each kind of rule watches, and the state machine that turns
 * a condition held for a rule's `for` into a firing alert and its end into a resolved one. Pure:
 * the caller passes the region's figures and the time.
 */

export const ALERT_RULE_KINDS = [
  'node-down',
  'disk-usage-above',
  'under-replicated-bytes-above',
  'scrub-coverage-below',
  'error-rate-above',
  'p99-latency-above',
  'projection-lag-above',
  'replication-lag-above',
  'replication-factor-mismatch',
] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** The unit of a rule's threshold and of its alerts' values. */
export type AlertUnit = 'state' | 'percent' | 'bytes' | 'ms' | 'events';

export const UNIT_OF_KIND: Readonly<Record<AlertRuleKind, AlertUnit>> = {
  'node-down': 'state',
  'disk-usage-above': 'percent',
  'under-replicated-bytes-above': 'bytes',
  'scrub-coverage-below': 'percent',
  'error-rate-above': 'percent',
  'p99-latency-above': 'ms',
  'projection-lag-above': 'events',
  'replication-lag-above': 'ms',
  'replication-factor-mismatch': 'state',
};

export interface AlertRule {
  /** Unique among the rules: lowercase letters, digits and "-". */
  readonly name: string;
  readonly kind: AlertRuleKind;
  /** In UNIT_OF_KIND[kind]; unused by node-down. scrub-coverage-below fires under it, every other kind over it. */
  readonly threshold: number;
  /** The condition must hold this long before the alert fires (a blip does not). */
  readonly forMs: number;
  readonly severity: AlertSeverity;
  /** Only these services' instances or traffic (per-instance and per-service kinds); all when empty. */
  readonly services: readonly string[];
  /** error-rate-above and p99-latency-above: a service with less traffic than this is not judged. */
  readonly minRequestsPerSecond: number;
  /** Extra labels every alert of the rule carries. */
  readonly labels: Readonly<Record<string, string>>;
  readonly summary?: string;
}

export type InstanceStatus = 'up' | 'suspected' | 'down';

/** What the rules are evaluated against: the region's latest figures. `null` is "no data yet". */
export interface AlertInputs {
  readonly instances: readonly {
    readonly service: string;
    readonly instance: string;
    readonly status: InstanceStatus;
    readonly disk?: { readonly capacityBytes: number; readonly freeBytes: number } | null;
    /** CAIRN_REPLICATION_FACTOR as the instance reports it in its heartbeat; absent from older instances. */
    readonly replicationFactor?: number | null;
  }[];
  /** Per service, over the figures' rate window; null until two scrapes have been made. */
  readonly traffic: readonly { readonly service: string; readonly requestsPerSecond: number; readonly errorRatio: number | null; readonly p99Seconds: number | null }[] | null;
  readonly projectionLag: readonly { readonly instance: string; readonly stream: string; readonly events: number }[] | null;
  readonly underReplicatedBytes: number | null;
  readonly scrubCoverage: readonly { readonly node: string; readonly coveredFraction: number; readonly firstPassDone: boolean }[] | null;
  /** Between regions; no source yet (federations are planned). */
  readonly replicationLag: readonly { readonly region: string; readonly lagMs: number }[] | null;
}

export interface AlertSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly breached: boolean;
}

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface AlertRecord {
  /** One occurrence: the fingerprint and when its condition started. */
  readonly id: string;
  /** The rule and labels: the same for every occurrence of the same alert. */
  readonly fingerprint: string;
  readonly rule: string;
  readonly kind: AlertRuleKind;
  readonly severity: AlertSeverity;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: AlertState;
  readonly value: number;
  readonly threshold: number;
  readonly unit: AlertUnit;
  readonly summary: string;
  /** When the condition was first seen (pending from then). */
  readonly activeSinceMs: number;
  readonly firingSinceMs: number | null;
  readonly resolvedAtMs: number | null;
}

export type RuleHealth = 'ok' | 'pending' | 'firing' | 'no-data';

export interface RuleStatus {
  readonly rule: string;
  readonly health: RuleHealth;
  readonly lastEvaluatedAtMs: number;
}

export interface AlertEngineState {
  /** Pending and firing alerts by fingerprint. */
  readonly active: ReadonlyMap<string, AlertRecord>;
  /** Resolved alerts, newest last, within the retention. */
  readonly resolved: readonly AlertRecord[];
  readonly rules: ReadonlyMap<string, RuleStatus>;
}

export interface AlertTransition {
  readonly type: 'firing' | 'resolved';
  readonly alert: AlertRecord;
}

export interface EvaluationLimits {
  /** A resolved alert is listed this long. */
  readonly resolvedRetentionMs: number;
  readonly resolvedMax: number;
  /** Pending and firing alerts at most; conditions beyond it are not tracked (counted in `dropped`). */
  readonly activeMax: number;
}

export const DEFAULT_EVALUATION_LIMITS: EvaluationLimits = { resolvedRetentionMs: 60 * 60 * 1000, resolvedMax: 1_000, activeMax: 10_000 };

export function initialAlertState(): AlertEngineState {
  return { active: new Map(), resolved: [], rules: new Map() };
}

function servesRule(rule: AlertRule, service: string): boolean {
  return rule.services.length === 0 || rule.services.includes(service);
}

const percentOf = (ratio: number) => ratio * 100;

/** The rule's samples in its unit, or 'no-data' when its source has given nothing yet. */
export function samplesOf(rule: AlertRule, inputs: AlertInputs): readonly AlertSample[] | 'no-data' {
  const over = (value: number) => value > rule.threshold;
  switch (rule.kind) {
    case 'node-down':
      return inputs.instances
        .filter((i) => servesRule(rule, i.service))
        .map((i) => ({ labels: { service: i.service, instance: i.instance }, value: i.status === 'down' ? 1 : 0, breached: i.status === 'down' }));
    case 'disk-usage-above':
      // A down instance's last figures are stale: it is node-down's business.
      return inputs.instances
        .filter((i) => servesRule(rule, i.service) && i.status !== 'down' && i.disk && i.disk.capacityBytes > 0)
        .map((i) => {
          const disk = i.disk as { capacityBytes: number; freeBytes: number };
          const used = percentOf(1 - Math.min(disk.freeBytes, disk.capacityBytes) / disk.capacityBytes);
          return { labels: { service: i.service, instance: i.instance }, value: round(used, 2), breached: over(used) };
        });
    case 'error-rate-above':
    case 'p99-latency-above': {
      if (!inputs.traffic) return 'no-data';
      const out: AlertSample[] = [];
      for (const t of inputs.traffic) {
        if (!servesRule(rule, t.service) || t.requestsPerSecond < rule.minRequestsPerSecond) continue;
        const value = rule.kind === 'error-rate-above' ? (t.errorRatio === null ? null : percentOf(t.errorRatio)) : t.p99Seconds === null ? null : t.p99Seconds * 1000;
        if (value !== null) out.push({ labels: { service: t.service }, value: round(value, 3), breached: over(value) });
      }
      return out;
    }
    case 'projection-lag-above': {
      if (!inputs.projectionLag) return 'no-data';
      const byStream = new Map<string, number>();
      for (const l of inputs.projectionLag) byStream.set(l.stream, Math.max(byStream.get(l.stream) ?? 0, l.events));
      return [...byStream].map(([stream, events]) => ({ labels: { stream }, value: events, breached: over(events) }));
    }
    case 'under-replicated-bytes-above':
      if (inputs.underReplicatedBytes === null) return 'no-data';
      return [{ labels: {}, value: inputs.underReplicatedBytes, breached: over(inputs.underReplicatedBytes) }];
    case 'scrub-coverage-below':
      if (!inputs.scrubCoverage) return 'no-data';
      // Until a node's first pass has finished its coverage only says that the pass is young.
      return inputs.scrubCoverage
        .filter((s) => s.firstPassDone)
        .map((s) => {
          const value = percentOf(s.coveredFraction);
          return { labels: { node: s.node }, value: round(value, 2), breached: value < rule.threshold };
        });
    case 'replication-lag-above':
      if (!inputs.replicationLag) return 'no-data';
      return inputs.replicationLag.map((r) => ({ labels: { region: r.region }, value: r.lagMs, breached: over(r.lagMs) }));
    case 'replication-factor-mismatch':
      return replicationFactorSamples(rule, inputs);
    default:
      return assertNever(rule.kind);
  }
}

/**
 * Every live instance that reports a replication factor is judged against the region's: the value
 * most of them report (on a tie, the larger, so the instances that would keep fewer copies are the
 * ones flagged). Gateways writing fewer copies than the sweep keeps, or a scheduler refusing to
 * sweep because metadata disagrees with it, both start from such a disagreement.
 */
function replicationFactorSamples(rule: AlertRule, inputs: AlertInputs): readonly AlertSample[] {
  const reporting = inputs.instances.filter(
    (i): i is typeof i & { replicationFactor: number } => i.status !== 'down' && typeof i.replicationFactor === 'number' && servesRule(rule, i.service),
  );
  const votes = new Map<number, number>();
  for (const i of reporting) votes.set(i.replicationFactor, (votes.get(i.replicationFactor) ?? 0) + 1);
  let regionFactor = 0;
  for (const [factor, count] of votes) {
    const best = votes.get(regionFactor) ?? 0;
    if (count > best || (count === best && factor > regionFactor)) regionFactor = factor;
  }
  return reporting.map((i) => ({
    labels: { service: i.service, instance: i.instance, expected: String(regionFactor) },
    value: i.replicationFactor,
    breached: i.replicationFactor !== regionFactor,
  }));
}

function assertNever(value: never): never {
  throw new Error(`unexpected rule kind ${String(value)}`);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `rule{a="1",b="2"}` hashed: the same rule and labels give the same fingerprint everywhere. */
export function fingerprintOf(rule: string, labels: Readonly<Record<string, string>>): string {
  const text = `${rule}\u0000${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000')}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const UNIT_TEXT: Readonly<Record<AlertUnit, string>> = { state: '', percent: '%', bytes: ' bytes', ms: ' ms', events: ' events' };

export function describeAlert(rule: AlertRule, labels: Readonly<Record<string, string>>, value: number): string {
  if (rule.summary) return rule.summary.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => (name === 'value' ? String(value) : name === 'threshold' ? String(rule.threshold) : (labels[name] ?? '')));
  const where = Object.entries(labels)
    .filter(([k]) => !(k in rule.labels))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const unit = UNIT_TEXT[UNIT_OF_KIND[rule.kind]];
  const what: Record<AlertRuleKind, string> = {
    'node-down': 'declared down by the failure detector',
    'disk-usage-above': `disk ${value}${unit} used (over ${rule.threshold}${unit})`,
    'under-replicated-bytes-above': `${value}${unit} under-replicated (over ${rule.threshold}${unit})`,
    'scrub-coverage-below': `scrub coverage ${value}${unit} (under ${rule.threshold}${unit})`,
    'error-rate-above': `${value}${unit} of requests failed with 5xx (over ${rule.threshold}${unit})`,
    'p99-latency-above': `p99 latency ${value}${unit} (over ${rule.threshold}${unit})`,
    'projection-lag-above': `projection ${value}${unit} behind (over ${rule.threshold}${unit})`,
    'replication-lag-above': `replication ${value}${unit} behind (over ${rule.threshold}${unit})`,
    'replication-factor-mismatch': `runs with replication factor ${value} where the region’s other instances run with ${labels['expected'] ?? '?'}`,
  };
  return `${where ? `${where}: ` : ''}${what[rule.kind]}`;
}

/**
 * One evaluation of every rule at `nowMs`. Per (rule, labels): a breached sample starts a pending
 * alert, which fires once breached for `for`; a sample no longer breached, or gone (the instance
 * forgotten, the traffic stopped), ends it — resolved if it had fired, forgotten if only pending.
 * A rule whose source gave no data leaves its alerts as they are (unknown is not resolved).
 */
export function evaluateAlerts(
  rules: readonly AlertRule[],
  inputs: AlertInputs,
  state: AlertEngineState,
  nowMs: number,
  limits: EvaluationLimits = DEFAULT_EVALUATION_LIMITS,
): { readonly state: AlertEngineState; readonly transitions: readonly AlertTransition[]; readonly dropped: number } {
  const active = new Map(state.active);
  const resolved = [...state.resolved];
  const ruleStatus = new Map<string, RuleStatus>();
  const transitions: AlertTransition[] = [];
  let dropped = 0;
  const names = new Set(rules.map((r) => r.name));
  for (const [key, alert] of active) if (!names.has(alert.rule)) active.delete(key);

  const resolve = (key: string, alert: AlertRecord) => {
    active.delete(key);
    if (alert.state !== 'firing') return;
    const done: AlertRecord = { ...alert, state: 'resolved', resolvedAtMs: nowMs };
    resolved.push(done);
    transitions.push({ type: 'resolved', alert: done });
  };

  for (const rule of rules) {
    const samples = samplesOf(rule, inputs);
    if (samples === 'no-data') {
      ruleStatus.set(rule.name, { rule: rule.name, health: 'no-data', lastEvaluatedAtMs: nowMs });
      continue;
    }
    const seen = new Set<string>();
    for (const sample of samples) {
      const labels = { ...rule.labels, ...sample.labels };
      const key = fingerprintOf(rule.name, labels);
      seen.add(key);
      const existing = active.get(key);
      if (!sample.breached) {
        if (existing) resolve(key, existing);
        continue;
      }
      if (!existing && active.size >= limits.activeMax) {
        dropped++;
        continue;
      }
      const since = existing?.activeSinceMs ?? nowMs;
      const fires = existing?.state === 'firing' || nowMs - since >= rule.forMs;
      const alert: AlertRecord = {
        id: `${key}-${since.toString(36)}`,
        fingerprint: key,
        rule: rule.name,
        kind: rule.kind,
        severity: rule.severity,
        labels,
        state: fires ? 'firing' : 'pending',
        value: sample.value,
        threshold: rule.threshold,
        unit: UNIT_OF_KIND[rule.kind],
        summary: describeAlert(rule, labels, sample.value),
        activeSinceMs: since,
        firingSinceMs: existing?.firingSinceMs ?? (fires ? nowMs : null),
        resolvedAtMs: null,
      };
      active.set(key, alert);
      if (fires && existing?.state !== 'firing') transitions.push({ type: 'firing', alert });
    }
    for (const [key, alert] of active) if (alert.rule === rule.name && !seen.has(key)) resolve(key, alert);
    const mine = [...active.values()].filter((a) => a.rule === rule.name);
    const health: RuleHealth = mine.some((a) => a.state === 'firing') ? 'firing' : mine.length > 0 ? 'pending' : 'ok';
    ruleStatus.set(rule.name, { rule: rule.name, health, lastEvaluatedAtMs: nowMs });
  }

  const kept = resolved.filter((a) => nowMs - (a.resolvedAtMs ?? nowMs) <= limits.resolvedRetentionMs).slice(-limits.resolvedMax);
  return { state: { active, resolved: kept, rules: ruleStatus }, transitions, dropped };
}

/** Firing first (most severe, oldest first), then pending, then resolved (newest first). */
export function listAlerts(state: AlertEngineState): AlertRecord[] {
  const rank = (s: AlertSeverity) => ALERT_SEVERITIES.indexOf(s);
  const active = [...state.active.values()].sort(
    (a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1) || rank(a.severity) - rank(b.severity) || a.activeSinceMs - b.activeSinceMs,
  );
  return [...active, ...[...state.resolved].reverse()];
}
