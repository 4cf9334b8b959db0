import type { Heartbeat } from '@cairn/protocol';
import type { AlertInputs, InstanceStatus } from '../domain/alert-rules';
import type { InstanceView } from '../domain/instance-view';
import type { ServiceTraffic } from './http-traffic';

/**
 * The region as monitoring last saw it: every instance from its heartbeats (with the failure
 * detector's verdict), traffic per service from their /metrics, metadata's projection lag, and the
 * scheduler's view of under-replicated data and scrub coverage. Alert rules are evaluated against
 * it; the dashboard shows it. `null` means "no data yet" (never scraped, or the source is away).
 */
export interface RegionFigures {
  readonly region: string;
  /** When these figures were put together. */
  readonly at: string;
  readonly instances: readonly InstanceFigures[];
  /** Per service over the rate window; null until two scrapes have been made. */
  readonly traffic: readonly ServiceTraffic[] | null;
  readonly projectionLag: readonly { readonly instance: string; readonly stream: string; readonly events: number }[] | null;
  readonly scheduler: SchedulerFigures | null;
  /** Between regions: no source until federations exist. */
  readonly replicationLag: null;
}

/** An instance's verdict (as InstanceView, without the raw heartbeat) and what was read of it. */
export interface InstanceFigures extends Omit<InstanceView, 'heartbeat' | 'status'> {
  readonly status: InstanceStatus;
  readonly url: string | null;
  readonly version: string | null;
  readonly uptimeSeconds: number | null;
  readonly load: Heartbeat['load'] | null;
  /** A storage node's disk, from its heartbeat. */
  readonly disk: { readonly capacityBytes: number; readonly freeBytes: number; readonly usedRatio: number } | null;
  readonly extra: Heartbeat['extra'] | null;
  /** The last scrape of its /metrics. */
  readonly scrape: ScrapeOutcome | null;
}

export interface ScrapeOutcome {
  readonly at: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

export interface SchedulerFigures {
  /** The scheduler instance asked, and when. */
  readonly instance: string;
  readonly fetchedAt: string;
  /** Bytes the sweep found missing from ring replicas and has not copied yet (the running sweep once it works, else the last complete one); null before any sweep. */
  readonly underReplicatedBytes: number | null;
  readonly scrub: readonly { readonly node: string; readonly coveredFraction: number; readonly firstPassDone: boolean; readonly oldestVerifiedAgeSeconds: number | null }[];
  /** GET /admin/jobs as the scheduler answered it (sweep, scrub, repair queue, workers). */
  readonly jobs: unknown;
}

export function diskOf(heartbeat: Heartbeat | null): InstanceFigures['disk'] {
  const extra = heartbeat?.extra;
  const capacityBytes = extra?.['capacityBytes'];
  const freeBytes = extra?.['freeBytes'];
  if (typeof capacityBytes !== 'number' || typeof freeBytes !== 'number' || capacityBytes <= 0) return null;
  return { capacityBytes, freeBytes, usedRatio: Math.max(0, Math.min(1, 1 - freeBytes / capacityBytes)) };
}

export function alertInputsOf(figures: RegionFigures): AlertInputs {
  return {
    instances: figures.instances.map((i) => ({ service: i.service, instance: i.instance, status: i.status, disk: i.disk })),
    traffic: figures.traffic,
    projectionLag: figures.projectionLag,
    underReplicatedBytes: figures.scheduler?.underReplicatedBytes ?? null,
    scrubCoverage: figures.scheduler ? figures.scheduler.scrub.map((s) => ({ node: s.node, coveredFraction: s.coveredFraction, firstPassDone: s.firstPassDone })) : null,
    replicationLag: figures.replicationLag,
  };
}

interface JobsReply {
  readonly sweep?: { readonly running?: SweepLike | null; readonly lastComplete?: SweepLike | null };
  readonly scrub?: readonly {
    readonly nodeId?: string;
    readonly previousPass?: { readonly finishedAt?: string | null } | null;
    readonly coverage?: { readonly coveredFraction?: number; readonly oldestVerifiedAgeSeconds?: number | null };
  }[];
}
interface SweepLike {
  readonly state?: string;
  readonly work?: { readonly repair?: { readonly doneBytes?: number; readonly totalBytes?: number } };
}

/** The scheduler's GET /admin/jobs reduced to what the rules need. */
export function schedulerFiguresOf(instance: string, fetchedAt: string, jobs: unknown): SchedulerFigures {
  const reply = (jobs ?? {}) as JobsReply;
  const running = reply.sweep?.running;
  const sweep = running && running.state === 'working' ? running : (reply.sweep?.lastComplete ?? null);
  const repair = sweep?.work?.repair;
  const underReplicatedBytes = repair ? Math.max(0, Number(repair.totalBytes ?? 0) - Number(repair.doneBytes ?? 0)) : null;
  const scrub = (Array.isArray(reply.scrub) ? reply.scrub : [])
    .filter((s) => typeof s.nodeId === 'string' && typeof s.coverage?.coveredFraction === 'number')
    .map((s) => ({
      node: s.nodeId as string,
      coveredFraction: s.coverage?.coveredFraction as number,
      firstPassDone: typeof s.previousPass?.finishedAt === 'string',
      oldestVerifiedAgeSeconds: s.coverage?.oldestVerifiedAgeSeconds ?? null,
    }));
  return { instance, fetchedAt, underReplicatedBytes, scrub, jobs };
}
