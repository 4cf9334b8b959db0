import type { DrillReport } from '@cairn/protocol';

/** One write a drill's client attempted: through which region's endpoint, when, and whether it was acknowledged. */
export interface DrillWrite {
  readonly via: string;
  readonly key: string;
  readonly etag: string | null;
  readonly startedMs: number;
  readonly endedMs: number;
  readonly ok: boolean;
}

/** What the drill observed, in wall-clock ms. */
export interface DrillObservations {
  readonly id: string;
  readonly region: string;
  readonly bucket: string;
  readonly oldHome: string;
  readonly startedMs: number;
  readonly failedMs: number;
  readonly promotedMs: number | null;
  readonly newHome: string | null;
  readonly epoch: number | null;
  readonly healedMs: number | null;
  readonly finishedMs: number;
  readonly writes: readonly DrillWrite[];
  /** Keys of acknowledged writes the new home lacked right after the failover. */
  readonly missingInNewHome: ReadonlySet<string>;
  readonly convergedMs: number | null;
  /** Keys of acknowledged writes still missing somewhere when the drill gave up waiting. */
  readonly lostAfterHeal: ReadonlySet<string>;
  /** The target for the recovery time (the 30 s). */
  readonly rtoTargetSeconds: number;
}

const seconds = (ms: number) => Math.round(ms) / 1000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The report from what the clients saw. RTO: from the failure to the first write the new home
 * acknowledged (through any other region's endpoint). RPO: writes acknowledged before the failure
 * that the new home lacked — how many, and how long before the failure the oldest was
 * acknowledged. Split brain: the old home's last acknowledgement after the failure reached its
 * client after the first acknowledgement of a write elsewhere (both as received, the order the
 * clients saw). Comparing with when that other write was *sent* flagged writes that had waited
 * seconds on a forwarding region (sent while the old home still held its lease, committed by the
 * new home long after): on a loaded machine that was a split brain reported where none was.
 */
export function drillReport(o: DrillObservations): DrillReport {
  const problems: string[] = [];
  const acknowledged = o.writes.filter((w) => w.ok);
  const afterFailure = (w: DrillWrite) => w.endedMs > o.failedMs;
  const byOldHome = acknowledged.filter((w) => w.via === o.oldHome && afterFailure(w));
  const elsewhere = acknowledged.filter((w) => w.via !== o.oldHome && w.startedMs > o.failedMs);
  const firstElsewhere = elsewhere.length ? Math.min(...elsewhere.map((w) => w.endedMs)) : null;
  const lastByOldHome = byOldHome.length ? Math.max(...byOldHome.map((w) => w.endedMs)) : null;
  const splitBrain = lastByOldHome !== null && firstElsewhere !== null && lastByOldHome > firstElsewhere;
  const lostBeforeFailure = acknowledged.filter((w) => w.endedMs <= o.failedMs && o.missingInNewHome.has(w.key));
  const rpoSeconds = lostBeforeFailure.length ? seconds(o.failedMs - Math.min(...lostBeforeFailure.map((w) => w.endedMs))) : 0;
  const rtoSeconds = firstElsewhere === null ? null : seconds(firstElsewhere - o.failedMs);
  if (o.promotedMs === null) problems.push(`no new home was named for ${o.bucket}`);
  if (rtoSeconds === null) problems.push('no write was acknowledged by a new home');
  else if (rtoSeconds > o.rtoTargetSeconds) problems.push(`RTO ${rtoSeconds} s is over the ${o.rtoTargetSeconds} s target`);
  if (splitBrain) problems.push('two regions acknowledged writes at once');
  if (o.convergedMs === null) problems.push('the regions did not converge after the region came back');
  if (o.lostAfterHeal.size > 0) problems.push(`${o.lostAfterHeal.size} acknowledged writes are missing after the heal`);
  return {
    id: o.id,
    region: o.region,
    bucket: o.bucket,
    method: 'cut-links',
    startedAt: iso(o.startedMs)!,
    failedAt: iso(o.failedMs)!,
    promotedAt: iso(o.promotedMs),
    healedAt: iso(o.healedMs),
    finishedAt: iso(o.finishedMs)!,
    oldHome: o.oldHome,
    newHome: o.newHome,
    epoch: o.epoch,
    rtoSeconds,
    failoverSeconds: o.promotedMs === null ? null : seconds(o.promotedMs - o.failedMs),
    rpoObjects: lostBeforeFailure.length,
    rpoSeconds,
    acknowledgedByOldHomeAfterFailure: byOldHome.length,
    writes: { attempted: o.writes.length, acknowledged: acknowledged.length, refused: o.writes.length - acknowledged.length },
    splitBrain,
    converged: o.convergedMs !== null,
    convergedSeconds: o.convergedMs === null || o.healedMs === null ? null : seconds(o.convergedMs - o.healedMs),
    lostAcknowledged: o.lostAfterHeal.size,
    ok: problems.length === 0,
    problems,
  };
}

/** The human summary of a report. */
export function drillSummary(r: DrillReport): string {
  const s = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} s`);
  const rows: [string, string][] = [
    ['result', r.ok ? 'PASS' : 'FAIL'],
    ['new home', r.newHome ? `${r.newHome} (epoch ${r.epoch})` : 'none'],
    ['failover (group named a new home)', s(r.failoverSeconds)],
    ['RTO (first write acknowledged by the new home)', s(r.rtoSeconds)],
    ['RPO (acknowledged before the failure, not in the new home)', `${r.rpoObjects} objects, ${r.rpoSeconds.toFixed(1)} s`],
    ['acknowledged by the old home within its lease', String(r.acknowledgedByOldHomeAfterFailure)],
    ['writes (acknowledged / refused)', `${r.writes.acknowledged} / ${r.writes.refused}`],
    ['two homes acknowledging at once', r.splitBrain ? 'YES' : 'no'],
    ['converged after the heal', r.converged ? `yes, in ${s(r.convergedSeconds)}` : 'no'],
    ['acknowledged writes lost', String(r.lostAcknowledged)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [`drill ${r.id}: ${r.region} taken out (${r.method}) at ${r.failedAt}, bucket ${r.bucket}`, '', ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
  if (r.problems.length) lines.push('', ...r.problems.map((p) => `problem: ${p}`));
  return lines.join('\n');
}
