import type { BucketHomeView } from '@cairn/protocol';

/**
 * The control group's replicated state (docs/failover.md): every active-passive bucket's home and
 * epoch, and each region's latest report of which regions it finds down. Pure: every region's
 * voter applies the same committed commands in the same order and reaches the same state; every
 * guard is checked when a command applies, not when it is proposed, so a proposal made on a view
 * that has since changed does nothing.
 */
export interface ControlState {
  readonly voters: readonly string[];
  readonly buckets: Readonly<Record<string, BucketHomeView>>;
  /** Observer region → the regions it currently finds down (sorted; never itself). */
  readonly reports: Readonly<Record<string, readonly string[]>>;
  /** Observer region → the sequence number of the report in `reports` (absent in states from before sequence numbers). */
  readonly reportSeqs?: Readonly<Record<string, number>>;
  /** Bucket → the epoch it had when it was unregistered: registered again, it starts above it (epochs only grow). */
  readonly retiredEpochs?: Readonly<Record<string, number>>;
  /** The drill running now, if any: one at a time across the federation (absent in states from before drills claimed). */
  readonly drill?: DrillClaim | null;
}

/** Who runs a drill, against which region, until when (the claim lapses then, should its runner die). */
export interface DrillClaim {
  readonly id: string;
  readonly region: string;
  readonly by: string;
  readonly until: string;
}

/** A region's report as the group holds it: what it finds down, and the report's sequence number. */
export interface CommittedReport {
  readonly down: readonly string[];
  readonly seq: number;
}

export type ControlCommand =
  /** A bucket became active-passive: its configured home is its first home (no-op when already registered). */
  | { readonly type: 'RegisterBucket'; readonly bucket: string; readonly home: string; readonly at: string }
  /** A bucket stopped being active-passive (or was deleted): the group forgets it. */
  | { readonly type: 'UnregisterBucket'; readonly bucket: string }
  /**
   * An observer's whole current view: the regions it has failed to reach for the failover window.
   * `seq` grows with every report the observer makes (RegionContacts.reportDue): a report that
   * arrives after a later one of the same observer is refused, so a region that has seen a peer
   * come back knows no older "it is down" of its own can still count.
   */
  | { readonly type: 'ReportRegions'; readonly observer: string; readonly down: readonly string[]; readonly seq: number }
  /** Failover: `from`, down by a majority, loses the bucket to `to` (proposed by the leader; `epoch` is the one it saw). */
  | { readonly type: 'PromoteHome'; readonly bucket: string; readonly from: string; readonly to: string; readonly epoch: number; readonly at: string }
  /** Planned switchover, step 1: the home stops acknowledging writes while `to` catches up. */
  | { readonly type: 'BeginSwitchover'; readonly bucket: string; readonly to: string; readonly epoch: number; readonly at: string }
  /** Planned switchover, step 2: `to` has every change of the old home; it becomes the home. */
  | { readonly type: 'CompleteSwitchover'; readonly bucket: string; readonly to: string; readonly epoch: number; readonly at: string }
  /** A switchover that cannot finish (the target fell behind or went away): the home serves again. */
  | { readonly type: 'CancelSwitchover'; readonly bucket: string; readonly epoch: number }
  /** A drill asks to run: granted when no other drill holds an unexpired claim at `at` (the same id renews). */
  | { readonly type: 'ClaimDrill'; readonly id: string; readonly region: string; readonly by: string; readonly at: string; readonly until: string }
  /** A drill is over: its claim ends (another drill's claim is left alone). */
  | { readonly type: 'ReleaseDrill'; readonly id: string };

export type ControlResult = { readonly ok: true; readonly bucket?: BucketHomeView } | { readonly ok: false; readonly reason: string };

export function initialControlState(voters: readonly string[]): ControlState {
  return { voters: [...voters].sort(), buckets: {}, reports: {}, reportSeqs: {} };
}

/** The region's latest applied report, if it has made one. */
export function committedReportOf(state: ControlState, region: string): CommittedReport | undefined {
  const down = state.reports[region];
  return down === undefined ? undefined : { down, seq: state.reportSeqs?.[region] ?? 0 };
}

export function majorityOf(voters: readonly string[]): number {
  return Math.floor(voters.length / 2) + 1;
}

/** The voters whose latest report says `region` is down. */
export function reportersOf(state: ControlState, region: string): string[] {
  return state.voters.filter((v) => v !== region && (state.reports[v] ?? []).includes(region));
}

/** Down as the group sees it: reported down by a majority of all voters (the region itself cannot count). */
export function isDown(state: ControlState, region: string): boolean {
  return reportersOf(state, region).length >= majorityOf(state.voters);
}

export function applyControlCommand(state: ControlState, command: ControlCommand): { readonly state: ControlState; readonly result: ControlResult } {
  const refuse = (reason: string) => ({ state, result: { ok: false, reason } as const });
  const setBucket = (view: BucketHomeView) => ({ state: { ...state, buckets: { ...state.buckets, [view.bucket]: view } }, result: { ok: true, bucket: view } as const });
  const voter = (region: string) => state.voters.includes(region);
  switch (command.type) {
    case 'RegisterBucket': {
      const existing = state.buckets[command.bucket];
      if (existing) return { state, result: { ok: true, bucket: existing } };
      if (!voter(command.home)) return refuse(`home ${command.home} is not a region of the control group`);
      const epoch = (state.retiredEpochs?.[command.bucket] ?? 0) + 1;
      return setBucket({ bucket: command.bucket, home: command.home, epoch, state: 'serving', switchingTo: null, since: command.at, reason: 'registered' });
    }
    case 'UnregisterBucket': {
      const gone = state.buckets[command.bucket];
      if (!gone) return { state, result: { ok: true } };
      const { [command.bucket]: _gone, ...rest } = state.buckets;
      return { state: { ...state, buckets: rest, retiredEpochs: { ...state.retiredEpochs, [command.bucket]: gone.epoch } }, result: { ok: true } };
    }
    case 'ReportRegions': {
      if (!voter(command.observer)) return refuse(`${command.observer} is not a region of the control group`);
      // Entries written before reports had sequence numbers carry none: they count as 0.
      const seq = command.seq ?? 0;
      const last = state.reportSeqs?.[command.observer];
      if (last !== undefined && seq <= last) return refuse(`a later report of ${command.observer} (${last}) has applied; this one (${seq}) is stale`);
      const down = [...new Set(command.down.filter((r) => r !== command.observer && voter(r)))].sort();
      return {
        state: { ...state, reports: { ...state.reports, [command.observer]: down }, reportSeqs: { ...state.reportSeqs, [command.observer]: seq } },
        result: { ok: true },
      };
    }
    case 'PromoteHome': {
      const b = state.buckets[command.bucket];
      if (!b) return refuse(`bucket ${command.bucket} is not in the control group`);
      if (b.epoch !== command.epoch || b.home !== command.from) return refuse(`bucket ${command.bucket} is at epoch ${b.epoch} with home ${b.home}, not ${command.epoch}/${command.from}`);
      if (!isDown(state, command.from)) return refuse(`${command.from} is not down by a majority`);
      if (!voter(command.to) || command.to === command.from) return refuse(`${command.to} cannot take over from ${command.from}`);
      if (isDown(state, command.to)) return refuse(`${command.to} is down by a majority`);
      return setBucket({ bucket: b.bucket, home: command.to, epoch: b.epoch + 1, state: 'serving', switchingTo: null, since: command.at, reason: 'failover' });
    }
    case 'BeginSwitchover': {
      const b = state.buckets[command.bucket];
      if (!b) return refuse(`bucket ${command.bucket} is not in the control group`);
      if (b.epoch !== command.epoch) return refuse(`bucket ${command.bucket} is at epoch ${b.epoch}, not ${command.epoch}`);
      if (b.state !== 'serving') return refuse(`bucket ${command.bucket} is already switching to ${b.switchingTo}`);
      if (!voter(command.to) || command.to === b.home) return refuse(`${command.to} cannot take over from ${b.home}`);
      if (isDown(state, command.to) || isDown(state, b.home)) return refuse(`${isDown(state, b.home) ? b.home : command.to} is down by a majority`);
      return setBucket({ ...b, state: 'draining', switchingTo: command.to });
    }
    case 'CompleteSwitchover': {
      const b = state.buckets[command.bucket];
      if (!b) return refuse(`bucket ${command.bucket} is not in the control group`);
      if (b.epoch !== command.epoch || b.state !== 'draining' || b.switchingTo !== command.to) return refuse(`bucket ${command.bucket} is not switching to ${command.to} at epoch ${command.epoch}`);
      return setBucket({ bucket: b.bucket, home: command.to, epoch: b.epoch + 1, state: 'serving', switchingTo: null, since: command.at, reason: 'switchover' });
    }
    case 'CancelSwitchover': {
      const b = state.buckets[command.bucket];
      if (!b || b.epoch !== command.epoch || b.state !== 'draining') return refuse(`bucket ${command.bucket} has no switchover at epoch ${command.epoch}`);
      return setBucket({ ...b, state: 'serving', switchingTo: null });
    }
    case 'ClaimDrill': {
      const held = state.drill;
      if (held && held.id !== command.id && Date.parse(held.until) > Date.parse(command.at)) return refuse(`drill ${held.id} (${held.region} out, run by ${held.by}) holds the federation until ${held.until}`);
      return { state: { ...state, drill: { id: command.id, region: command.region, by: command.by, until: command.until } }, result: { ok: true } };
    }
    case 'ReleaseDrill': {
      if (state.drill?.id !== command.id) return { state, result: { ok: true } };
      return { state: { ...state, drill: null }, result: { ok: true } };
    }
  }
}

/**
 * Failovers the state calls for: buckets whose home is down by a majority. The caller (the
 * leader) picks each one's new home among `candidates` (regions not down) by their progress.
 */
export function bucketsNeedingFailover(state: ControlState): BucketHomeView[] {
  return Object.values(state.buckets).filter((b) => isDown(state, b.home));
}

/**
 * The new home: the candidate that has applied the most of the old home's changes; ties go to the
 * lowest region name, so every leader would choose the same.
 */
export function chooseNewHome(progress: readonly { readonly region: string; readonly appliedThrough: number }[]): string | null {
  const best = [...progress].sort((a, b) => b.appliedThrough - a.appliedThrough || a.region.localeCompare(b.region))[0];
  return best?.region ?? null;
}
