import { majorityOf } from './control-state';

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

/**
 * One region's view of the others, and its lease (docs/failover.md). Pure: times are the caller's
 * monotonic clock. The rules that keep two homes from acknowledging at once:
 *  - a peer counts as down here after `failedChecks` failed checks and `failureWindowMs` without
 *    any contact (a reply to our probe, or a probe of theirs);
 *  - this region grants a peer a lease (answers its probe with `granted`) only while it finds the
 *    peer up AND its committed report does not call the peer down — so from the moment it decides
 *    the peer is down until its report saying otherwise has committed, it grants nothing;
 *  - a grant is valid from the moment the probe was *sent* for `leaseMs` < the failure window, so
 *    it lapses before any region that answered it can report the prober down;
 *  - this region holds its lease while grants from a majority of the voters (itself included) are
 *    valid, each from a region that had applied no more of the control log than this one has.
 */
export class RegionContacts {
  private readonly peers = new Map<string, PeerContact>();

  constructor(
    readonly self: string,
    readonly voters: readonly string[],
    private readonly options: RegionContactOptions,
  ) {
    if (options.leaseMs >= this.failureWindowMs) throw new Error(`the lease (${options.leaseMs} ms) must be shorter than the failover window (${this.failureWindowMs} ms)`);
    for (const v of voters) if (v !== self) this.peers.set(v, { failures: 0, lastContactMs: null, grantSentMs: null, rttMs: null });
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

  /** Whether to grant `peer` a lease now: up here, and not down in our committed report. */
  grants(peer: string, committedDown: readonly string[], nowMs: number, startedMs: number): boolean {
    return this.peers.has(peer) && !this.isDownHere(peer, nowMs, startedMs) && !committedDown.includes(peer);
  }

  /** Until when (monotonic ms) this region may acknowledge writes as a home; 0 when it may not. */
  leaseUntilMs(): number {
    const needed = majorityOf(this.voters) - 1;
    if (needed <= 0) return Number.POSITIVE_INFINITY;
    const grants = [...this.peers.values()]
      .map((p) => p.grantSentMs)
      .filter((g): g is number => g !== null)
      .sort((a, b) => b - a);
    return grants.length >= needed ? grants[needed - 1] + this.options.leaseMs : 0;
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
