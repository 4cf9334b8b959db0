import { majorityOf, type CommittedReport } from './control-state';

export interface RegionContactOptions {
  /** Between two checks of each peer. */
  readonly checkIntervalMs: number;
  /** Consecutive failed checks (and as long without any contact) before a peer counts as down here. */
  readonly failedChecks: number;
  /** How long a peer's grant lets this region acknowledge writes; must be shorter than the failover window. */
  readonly leaseMs: number;
}

interface PeerContact {
  failures: number;
  /** Last moment the peer was certainly alive and linked to us (a reply or a probe received). */
  lastContactMs: number | null;
  /** Send time of the latest probe the peer answered with a grant this region may count. */
  grantSentMs: number | null;
  rttMs: number | null;
}

/** A report to propose (ReportRegions): what this region finds down, with a sequence number above all its earlier ones. */
export interface ReportProposal {
  readonly down: readonly string[];
  readonly seq: number;
}

/**
 * One region's view of the others, and its lease (docs/failover.md). Pure: times are the caller's
 * monotonic clock, except report sequence numbers, which come from its wall clock so that they
 * keep growing across restarts. The rules that keep two homes from acknowledging at once:
 *  - a peer counts as down here after `failedChecks` failed checks and `failureWindowMs` without
 *    any contact (a reply to our probe, or a probe of theirs);
 *  - every report this region proposes carries a sequence number above all its earlier ones, and
 *    the group refuses a report older than the one it holds; this region remembers the number of
 *    its latest report that called each peer down;
 *  - this region grants a peer a lease (answers its probe with `granted`) only while it finds the
 *    peer up AND its committed (applied) report does not call the peer down AND that report is
 *    this process's own and no older than its latest one calling the peer down — so from the
 *    moment it decides the peer is down until a later report saying otherwise has applied, it
 *    grants nothing, even if the peer comes back before the "down" report commits, and even if it
 *    restarted and forgot what it had reported (its applied state is stale until its first report
 *    of this run has applied);
 *  - a grant is valid from the moment the probe was *sent* for `leaseMs` < the failure window, so
 *    it lapses before any region that answered it can report the prober down;
 *  - this region holds its lease while grants from a majority of the voters (itself included) are
 *    valid, each from a region that had applied no more of the control log than this one has —
 *    and only once its own first report of this run has applied (until then its applied state may
 *    be one from before a crash, older than what it acknowledged before: a switchover's drain).
 */
export class RegionContacts {
  private readonly peers = new Map<string, PeerContact>();
  /** The sequence number of this process's first report: older ones are a previous run's. */
  private firstSeq: number | null = null;
  private lastSeq = 0;
  /** Peer → the sequence number of this process's latest report that called it down. */
  private readonly downSeq = new Map<string, number>();
  /** Grants needed besides this region's own for a majority. */
  private readonly grantsNeeded: number;

  constructor(
    readonly self: string,
    readonly voters: readonly string[],
    private readonly options: RegionContactOptions,
  ) {
    if (options.leaseMs >= this.failureWindowMs) throw new Error(`the lease (${options.leaseMs} ms) must be shorter than the failover window (${this.failureWindowMs} ms)`);
    for (const v of voters) if (v !== self) this.peers.set(v, { failures: 0, lastContactMs: null, grantSentMs: null, rttMs: null });
    this.grantsNeeded = majorityOf(voters) - 1;
  }

  get failureWindowMs(): number {
    return this.options.checkIntervalMs * this.options.failedChecks;
  }

  peerNames(): string[] {
    return [...this.peers.keys()];
  }

  /** Our probe of `peer`, sent at `sentMs`, was answered at `receivedMs`. */
  answered(peer: string, sentMs: number, receivedMs: number, reply: { readonly granted: boolean; readonly appliedIndex: number }, appliedHere: number): void {
    const p = this.peers.get(peer);
    if (!p) return;
    p.failures = 0;
    p.lastContactMs = Math.max(p.lastContactMs ?? receivedMs, receivedMs);
    p.rttMs = receivedMs - sentMs;
    if (reply.granted && reply.appliedIndex <= appliedHere) p.grantSentMs = Math.max(p.grantSentMs ?? sentMs, sentMs);
  }

  /** Our probe of `peer` failed (timeout, no route, refused). */
  failed(peer: string): void {
    const p = this.peers.get(peer);
    if (p) p.failures += 1;
  }

  /** `peer` probed us: it is alive and linked, whatever our own probes say. */
  probedBy(peer: string, atMs: number): void {
    const p = this.peers.get(peer);
    if (!p) return;
    p.failures = 0;
    p.lastContactMs = Math.max(p.lastContactMs ?? atMs, atMs);
  }

  /** Whether `peer` counts as down here now (a region never heard from counts as down once the window has passed since `startedMs`). */
  isDownHere(peer: string, nowMs: number, startedMs: number): boolean {
    const p = this.peers.get(peer);
    if (!p) return false;
    const since = p.lastContactMs ?? startedMs;
    return p.failures >= this.options.failedChecks && nowMs - since >= this.failureWindowMs;
  }

  downHere(nowMs: number, startedMs: number): string[] {
    return this.peerNames()
      .filter((p) => this.isDownHere(p, nowMs, startedMs))
      .sort();
  }

  /**
   * The report to propose now, or null when the group holds this region's current view already
   * (its latest report, with the same regions). A report is due when the view changed, when this
   * process has not reported yet (after a start the group may hold a previous run's), and when its
   * latest report has not applied (lost, or still on its way: a fresh one supersedes it).
   * `committed` is this region's report in its applied state; `wallMs` a wall clock (ms).
   */
  reportDue(down: readonly string[], committed: CommittedReport | undefined, wallMs: number): ReportProposal | null {
    const view = [...new Set(down)].sort();
    if (this.isOwnCurrent(committed) && committed!.seq >= this.lastSeq && sameList(committed!.down, view)) return null;
    // Above what the group holds of ours too: a wall clock set back across a restart still moves on.
    const seq = Math.max(this.lastSeq + 1, Math.floor(wallMs), (committed?.seq ?? 0) + 1);
    this.lastSeq = seq;
    this.firstSeq ??= seq;
    for (const peer of view) this.downSeq.set(peer, seq);
    return { down: view, seq };
  }

  /**
   * Whether to grant `peer` a lease now: up here, and not down in our committed report, which is
   * this process's own and no older than its latest report calling `peer` down.
   */
  grants(peer: string, committed: CommittedReport | undefined, nowMs: number, startedMs: number): boolean {
    if (!this.peers.has(peer) || this.isDownHere(peer, nowMs, startedMs)) return false;
    if (!this.isOwnCurrent(committed) || committed!.down.includes(peer)) return false;
    return committed!.seq >= (this.downSeq.get(peer) ?? 0);
  }

  /**
   * Until when (monotonic ms) this region may acknowledge writes as a home; 0 when it may not.
   * `committed` is this region's report in its applied state: until this process's first report
   * has applied, the applied state may be older than what this region knew before a restart.
   */
  leaseUntilMs(committed: CommittedReport | undefined): number {
    const needed = this.grantsNeeded;
    if (needed <= 0) return Number.POSITIVE_INFINITY;
    if (!this.isOwnCurrent(committed)) return 0;
    const grants = [...this.peers.values()]
      .map((p) => p.grantSentMs)
      .filter((g): g is number => g !== null)
      .sort((a, b) => b - a);
    return grants.length >= needed ? grants[needed - 1] + this.options.leaseMs : 0;
  }

  /** Whether `committed` is a report of this process (not of a run before a restart). */
  private isOwnCurrent(committed: CommittedReport | undefined): boolean {
    return committed !== undefined && this.firstSeq !== null && committed.seq >= this.firstSeq;
  }

  view(nowMs: number, startedMs: number): { region: string; up: boolean; failures: number; sinceContactMs: number | null; rttMs: number | null }[] {
    return [...this.peers.entries()].map(([region, p]) => ({
      region,
      up: !this.isDownHere(region, nowMs, startedMs),
      failures: p.failures,
      sinceContactMs: p.lastContactMs === null ? null : nowMs - p.lastContactMs,
      rttMs: p.rttMs,
    }));
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
