import type { AlertWire, InstanceWire, StorageNodeWire } from './admin-api.types';

/** A storage node's health as monitoring's failure detector sees it; unknown when monitoring has not heard it (or did not answer). */
export type NodeHealth = 'up' | 'suspected' | 'down' | 'unknown';

export interface NodeRow extends StorageNodeWire {
  readonly state: NodeHealth;
  readonly lastHeartbeatAt: string | null;
  readonly freeBytes: number | null;
}

/** Storage nodes (membership, from the scheduler) joined with their health (from monitoring); a node's instance name is its id. */
export function nodesWithHealth(nodes: readonly StorageNodeWire[], instances: readonly InstanceWire[] | null): NodeRow[] {
  return nodes.map((node) => {
    const seen = instances?.find((i) => i.service === 'storage' && i.instance === node.nodeId);
    const state: NodeHealth = seen && (seen.status === 'up' || seen.status === 'suspected' || seen.status === 'down') ? seen.status : 'unknown';
    const free = seen?.heartbeat?.extra?.['freeBytes'];
    return { ...node, state, lastHeartbeatAt: seen?.lastHeartbeatAt ?? null, freeBytes: typeof free === 'number' ? free : null };
  });
}

export interface ServiceSummary {
  readonly region: string;
  readonly service: string;
  readonly up: number;
  readonly suspected: number;
  readonly down: number;
  /** Instances that are not up, by name. */
  readonly notUp: readonly string[];
}

/** Instances grouped by region and service, counted by verdict. */
export function summarizeServices(instances: readonly InstanceWire[]): ServiceSummary[] {
  const groups = new Map<string, { region: string; service: string; up: number; suspected: number; down: number; notUp: string[] }>();
  for (const i of instances) {
    const key = `${i.region}\u0000${i.service}`;
    const g = groups.get(key) ?? { region: i.region, service: i.service, up: 0, suspected: 0, down: 0, notUp: [] };
    if (i.status === 'up') g.up++;
    else if (i.status === 'suspected') {
      g.suspected++;
      g.notUp.push(`${i.instance} (suspected)`);
    } else {
      g.down++;
      g.notUp.push(`${i.instance} (${i.status})`);
    }
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => `${a.region}/${a.service}`.localeCompare(`${b.region}/${b.service}`));
}

/** Alerts from an answer whose shape is read loosely: `{ alerts: [...] }` or a bare array. */
export function alertsOf(reply: unknown): AlertWire[] | null {
  const list = Array.isArray(reply) ? reply : reply && typeof reply === 'object' && Array.isArray((reply as { alerts?: unknown }).alerts) ? (reply as { alerts: unknown[] }).alerts : null;
  if (!list) return null;
  return list.filter((a): a is AlertWire => Boolean(a) && typeof a === 'object');
}

export interface AlertRow {
  readonly name: string;
  readonly severity: string;
  readonly state: string;
  readonly since: string;
  readonly summary: string;
}

export function alertRow(alert: AlertWire): AlertRow {
  return {
    name: alert.name ?? alert.rule ?? alert.id ?? '?',
    severity: alert.severity ?? alert.labels?.['severity'] ?? '',
    state: alert.state ?? alert.status ?? 'firing',
    since: alert.firingSince ?? alert.activeSince ?? alert.since ?? alert.startsAt ?? '',
    summary: alert.summary ?? alert.message ?? alert.description ?? '',
  };
}

/** Alerts firing or pending (monitoring also lists those resolved in the last hour). */
export function activeAlerts(alerts: readonly AlertWire[]): AlertRow[] {
  return alerts.map(alertRow).filter((a) => a.state !== 'resolved' && a.state !== 'inactive' && a.state !== 'ok');
}
