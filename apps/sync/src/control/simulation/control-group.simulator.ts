import { EventQueue, MemoryDisk, MemoryStorage, NO_NODE, RaftLoop, SeededRandom, type Message } from '@cairn/consensus';
import { ControlReplica, encodeControlCommand, type AppliedControl } from '../control.replica';
import { validControlCommand } from '../control-messages';
import { bucketsNeedingFailover, chooseNewHome, committedReportOf, isDown, type ControlCommand, type ControlResult, type ControlState } from '../domain/control-state';
import { RegionContacts } from '../domain/region-contact';

/**
 * A deterministic simulation of the control group (docs/failover.md): every region runs what
 * control-group.service.ts runs — the production RaftLoop with the ControlReplica, RegionContacts
 * with probes and grants, reports, the leader's failover and switchover — on a simulated network
 * (latency, loss, cuts in one or both directions, flapping links), simulated per-region clocks
 * that run at slightly different rates, and crashes (memory lost, the Raft log kept). Every region
 * tries to acknowledge writes to every bucket continuously. Checkers look from outside, on one
 * global clock. Everything is drawn from the seed: a failure replays exactly.
 *
 * The service's constants are mirrored here (SERVICE); keep them in step with it.
 */
export const SERVICE = {
  tickMs: 100,
  electionTimeoutTicks: 10,
  heartbeatIntervalTicks: 2,
  checkIntervalMs: 1_000,
  failedChecks: 3,
  /** homeLeaseMsOf(config) with the defaults: two thirds of the failover window. */
  leaseMs: Math.floor((1_000 * 3 * 2) / 3),
  leaderLoopMs: 250,
  reconcileMs: 5_000,
  proposalTimeoutMs: 5_000,
  leaderWaitMs: 3_000,
  progressTimeoutMs: 2_000,
  switchoverCatchUpMs: 30_000,
  switchoverPollMs: 100,
  /** checkPeers: a probe times out after 0.9 of the interval. */
  probeTimeoutMs: 900,
} as const;

const FAILURE_WINDOW_MS = SERVICE.checkIntervalMs * SERVICE.failedChecks;
const ELECTION_MS = 2 * SERVICE.tickMs * SERVICE.electionTimeoutTicks;
/** Liveness: a home cut off from the others has a successor that acknowledges within window + election + this. */
export const LIVENESS_SLACK_MS = 3_000;
export const LIVENESS_BOUND_MS = FAILURE_WINDOW_MS + ELECTION_MS + LIVENESS_SLACK_MS;
const WRITE_EVERY_MS = 100;
const REPLICATE_EVERY_MS = 250;
const CHECK_EVERY_MS = 100;
/** Healing may have to wait for the leader to give back a bucket whose switchover was abandoned. */
const CONVERGE_WITHIN_MS = SERVICE.switchoverCatchUpMs + 15_000 + 10_000;
const MAX_EVENTS = 3_000_000;
const TRACE_LINES = 160;

export interface ControlSimProfile {
  readonly regions: number;
  readonly buckets: number;
  readonly dropProbability: number;
  readonly baseLatencyMs: number;
  readonly jitterMs: number;
  /** Each region's clock runs at 1 ± up to this. */
  readonly clockSkew: number;
  readonly meanFaultGapMs: number;
  readonly kinds: readonly FaultKind[];
  readonly snapshotEveryEntries: number;
  readonly chaosMs: number;
}

export type FaultKind = 'isolate' | 'minority' | 'partial' | 'flap' | 'asymmetric' | 'crash' | 'restart' | 'switchover';
const ALL_KINDS: readonly FaultKind[] = ['isolate', 'minority', 'partial', 'flap', 'asymmetric', 'crash', 'restart', 'switchover'];

/**
 * How the service behaves where the simulation found it wanting (docs/failover-simulation.md):
 * `PROPOSED` is the service with the fixes (the first and third are in control-group.service.ts
 * since 9fbaf11; the second and the metadata one are proposed), `AS_WRITTEN` what the service and
 * metadata did when the simulator found them.
 */
export interface ServiceBehaviour {
  /** checkPeers awaits report(): while a report's proposal waits (up to 5 s) this region neither probes nor renews its lease. */
  readonly reportBlocksProbing: boolean;
  /** switchover() gives up without CancelSwitchover when BeginSwitchover's outcome is unknown (a timeout). */
  readonly beginUnknownLeavesDrain: boolean;
  /** Nobody ends a drain whose coordinator went away (crashed, or lost its link): the bucket refuses writes for good. */
  readonly noStaleDrainRecovery: boolean;
  /**
   * metadata's assertStillHome after the append looks at the authority it cached (up to 250 ms old)
   * and refuses only if that still names this region with a lapsed lease: an authority refreshed
   * meanwhile to another home, or a drain, lets the write be acknowledged.
   */
  readonly postAppendCachedCheck: boolean;
}

export const PROPOSED: ServiceBehaviour = { reportBlocksProbing: false, beginUnknownLeavesDrain: false, noStaleDrainRecovery: false, postAppendCachedCheck: false };
export const AS_WRITTEN: ServiceBehaviour = { reportBlocksProbing: true, beginUnknownLeavesDrain: true, noStaleDrainRecovery: true, postAppendCachedCheck: true };

/** metadata's HomeRegionForwarder (apps/metadata/src/replication/home-region-forwarder.ts). */
export const METADATA = { authorityTtlMs: 250, leaseMarginMs: 250, minAppendMs: 2, maxAppendMs: 80 } as const;

/** The leader cancels a drain older than this (the service's ABANDONED_SWITCHOVER_MS: the coordinator's own deadline plus a margin). */
export const STALE_DRAIN_MS = SERVICE.switchoverCatchUpMs + 15_000;

/**
 * Bugs the simulator must catch, put back on purpose (a test proves it still does):
 *  - `grant-on-committed-report-only`: the rule RegionContacts had before the simulator found it
 *    wanting — grant whenever the peer is up here and the applied report does not call it down,
 *    though a report calling it down may still be on its way to commit.
 */
export type InjectedBug = 'grant-on-committed-report-only';

export interface ControlSimOptions {
  /** Only these faults, and never against a bucket's home (a minority partition: nothing may fail over). */
  readonly minorityOnly?: boolean;
  readonly regions?: number;
  readonly service?: ServiceBehaviour;
  readonly injected?: InjectedBug;
}

export function drawProfile(random: SeededRandom, options: ControlSimOptions): ControlSimProfile {
  const regions = options.regions ?? (random.chance(0.5) ? 5 : 3);
  const kinds = options.minorityOnly
    ? (['isolate', 'minority', 'partial', 'flap', 'asymmetric', 'crash', 'restart'] as FaultKind[])
    : ALL_KINDS.filter(() => random.chance(0.7));
  return {
    regions,
    buckets: random.between(1, 3),
    dropProbability: random.pick([0, 0.005, 0.02]),
    baseLatencyMs: random.between(1, 30),
    jitterMs: random.pick([0, 10, 60, 150]),
    clockSkew: random.pick([0, 0.005, 0.02, 0.05]),
    meanFaultGapMs: random.pick([1_000, 2_500, 5_000]),
    kinds: kinds.length > 0 ? kinds : ['isolate'],
    snapshotEveryEntries: random.pick([8, 40, 1_000]),
    chaosMs: 20_000,
  };
}

export class ControlSimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControlSimFailure';
  }
}

export interface ControlSimReport {
  readonly seed: number;
  readonly profile: ControlSimProfile;
  readonly events: number;
  readonly failovers: number;
  readonly switchovers: number;
  readonly crashes: number;
  readonly faults: number;
  readonly leaderChanges: number;
  /** Writes acknowledged, all regions. */
  readonly acks: number;
  /** From the home's cut to its successor's first possible acknowledgement (the liveness phase). */
  readonly rtoMs: number;
  /** Simulated ms any region was able to acknowledge a bucket's writes, summed over buckets, chaos phase. */
  readonly ableMs: number;
}

type Payload =
  | { readonly kind: 'raft'; readonly m: Message }
  | { readonly kind: 'request'; readonly id: number; readonly op: 'probe' | 'propose' | 'progress'; readonly body: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly error: string | null; readonly value: unknown }
  | { readonly kind: 'replicate'; readonly source: string; readonly seq: number };

interface ProbeReply {
  readonly region: string;
  readonly granted: boolean;
  readonly appliedIndex: number;
}
interface ProgressReply {
  readonly region: string;
  readonly source: string;
  readonly appliedThrough: number;
  readonly appliedIndex: number;
  readonly ownLastSequence: number;
}

type Callback<T> = (error: string | null, value?: T) => void;

/** One incarnation of a region's sync: everything here is lost on a crash. */
interface Proc {
  readonly incarnation: number;
  readonly replica: ControlReplica;
  readonly loop: RaftLoop<AppliedControl>;
  readonly contacts: RegionContacts;
  readonly startedMs: number;
  probing: boolean;
  reporting: string | null;
  leaderBusy: boolean;
  lastReconcileMs: number;
  readonly failingOver: Set<string>;
  readonly registering: Set<string>;
  readonly pending: Map<number, Callback<unknown>>;
  /** Per bucket: the highest epoch this incarnation applied (epochs only grow). */
  readonly epochs: Map<string, number>;
  /** While leading: since when (local ms) it has seen each bucket draining. */
  readonly drainingSince: Map<string, number>;
}

interface Region {
  readonly id: string;
  readonly rate: number;
  readonly offset: number;
  readonly storage: MemoryStorage;
  readonly disk: MemoryDisk;
  proc: Proc | undefined;
  incarnations: number;
  /** Its own changes, one per acknowledged write (the stream's last sequence; durable). */
  ownSeq: number;
  /** Per source region: how far this region has applied that region's changes (durable). */
  readonly appliedThrough: Map<string, number>;
  /** Per bucket: the global time until which this region may acknowledge its writes, as its state stands. */
  readonly ableUntil: Map<string, number>;
  /** Per bucket: the sequence of this region's last acknowledged write to it. */
  readonly lastAck: Map<string, number>;
  /** Its applied state or its grants changed, or it crashed or started: whether it may acknowledge must be looked at again. */
  dirty: boolean;
  /** metadata's cached authority per bucket (its clock): lost with the region. */
  readonly known: Map<string, KnownAuthority>;
}

interface KnownAuthority {
  readonly home: string;
  readonly state: string;
  readonly epoch: number;
  readonly leaseUntil: number;
  readonly fetchedAt: number;
}

interface Scheduled {
  readonly region: string | null;
  readonly fn: () => void;
}

export function runControlSimulation(seed: number, options: ControlSimOptions = {}): ControlSimReport {
  return new ControlGroupSimulation(seed, options).run();
}

class ControlGroupSimulation {
  private readonly random: SeededRandom;
  private readonly net: SeededRandom;
  private readonly profile: ControlSimProfile;
  private readonly queue = new EventQueue<Scheduled>();
  private readonly ids: string[];
  private readonly regions = new Map<string, Region>();
  private readonly bucketNames: string[];
  /** The home each bucket was configured with (metadata's replication.homeRegion; never changes). */
  private readonly configuredHome = new Map<string, string>();
  private now = 0;
  private phase: 'chaos' | 'settle' | 'liveness' | 'healed' | 'done' = 'chaos';
  private events = 0;
  private nextId = 1;
  private readonly trace: string[] = [];

  // network: a cut direction a>b is down while any fault holds it
  private readonly cuts = new Map<string, number>();
  private readonly latency = new Map<string, number>();
  /** Bumped when every link heals: the faults in flight until then end with it. */
  private generation = 0;
  /** Faults in force now (a minority-only run keeps it to one). */
  private activeFaults = 0;
  /** Ground truth, per unordered pair: since when the two could not talk (a cut either way, or one down). */
  private readonly apart = new Map<string, { since: number; reconnectedAt: number | undefined }>();
  /** Pairs that have been apart for at least the detection bound at some point. */
  private readonly longApart = new Set<string>();

  // checks
  private readonly committed = new Map<number, string>();
  private readonly promotionsSeen = new Set<number>();
  /** Per bucket and epoch: the first acknowledged write, by whom and when. */
  private readonly firstAckOfEpoch = new Map<string, Map<number, { region: string; at: number }>>();
  /** Per bucket: the home a switchover started from. */
  private readonly previousHome = new Map<string, string>();
  private failovers = 0;
  private switchovers = 0;
  private crashes = 0;
  private faults = 0;
  private acks = 0;
  private leaderChanges = 0;
  private lastLeader = '';
  private ableMs = 0;
  private rtoMs = -1;
  private readonly minorityOnly: boolean;
  private readonly service: ServiceBehaviour;
  private readonly injected: InjectedBug | undefined;

  constructor(
    readonly seed: number,
    options: ControlSimOptions,
  ) {
    this.random = new SeededRandom(seed);
    this.profile = drawProfile(this.random, options);
    this.net = this.random.fork();
    this.minorityOnly = options.minorityOnly ?? false;
    this.service = options.service ?? PROPOSED;
    this.injected = options.injected;
    this.ids = Array.from({ length: this.profile.regions }, (_, i) => `r${i + 1}`);
    this.bucketNames = Array.from({ length: this.profile.buckets }, (_, i) => `bucket-${i + 1}`);
    for (const b of this.bucketNames) this.configuredHome.set(b, this.random.pick(this.ids));
    for (const a of this.ids) for (const b of this.ids) if (a !== b) this.latency.set(`${a}>${b}`, this.profile.baseLatencyMs + this.random.nextInt(20));
    for (const id of this.ids) {
      const storage = new MemoryStorage({ voters: this.ids });
      const region: Region = {
        id,
        rate: 1 + (this.random.nextFloat() * 2 - 1) * this.profile.clockSkew,
        offset: this.random.nextInt(1_000_000),
        storage,
        disk: new MemoryDisk(storage, { entriesKeptAfterSnapshot: 4 }),
        proc: undefined,
        incarnations: 0,
        ownSeq: 0,
        appliedThrough: new Map(),
        ableUntil: new Map(),
        lastAck: new Map(),
        dirty: true,
        known: new Map(),
      };
      this.regions.set(id, region);
    }
  }

  run(): ControlSimReport {
    try {
      this.log(`seed ${this.seed}: ${describe(this.profile)}${this.minorityOnly ? ' minority-only' : ''}`);
      this.log(`clocks ${[...this.regions.values()].map((r) => `${r.id}×${r.rate.toFixed(4)}`).join(' ')}; configured homes ${[...this.configuredHome].map(([b, h]) => `${b}@${h}`).join(' ')}`);
      for (const r of this.regions.values()) this.startProc(r);
      this.every(WRITE_EVERY_MS, () => this.writeRound());
      this.every(REPLICATE_EVERY_MS, () => this.replicateRound());
      this.after(this.faultGap(), null, () => this.injectFault());
      this.after(this.profile.chaosMs, null, () => this.startSettle());
      while (this.phase !== 'done') {
        const next = this.queue.pop();
        if (!next) this.fail('the event queue ran dry');
        if (++this.events > MAX_EVENTS) this.fail(`more than ${MAX_EVENTS} events`);
        this.now = next.at;
        next.item.fn();
        for (const r of this.regions.values()) {
          if (!r.dirty) continue;
          r.dirty = false;
          this.refreshAbility(r);
        }
      }
      return {
        seed: this.seed,
        profile: this.profile,
        events: this.events,
        failovers: this.failovers,
        switchovers: this.switchovers,
        crashes: this.crashes,
        faults: this.faults,
        leaderChanges: this.leaderChanges,
        acks: this.acks,
        rtoMs: this.rtoMs,
        ableMs: Math.round(this.ableMs),
      };
    } catch (error) {
      if (error instanceof ControlSimFailure) throw error;
      this.fail(`threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  // ------------------------------------------------------------------ time, scheduling, trace

  private local(r: Region): number {
    return r.offset + r.rate * this.now;
  }

  /** Runs `fn` after `ms` of global time. */
  private after(ms: number, region: string | null, fn: () => void): void {
    this.queue.push(this.now + Math.max(0, ms), { region, fn });
  }

  /** Runs `fn` after `localMs` on the region's clock, if the same incarnation still runs then. */
  private timer(r: Region, proc: Proc, localMs: number, fn: () => void): void {
    this.after(localMs / r.rate, r.id, () => {
      if (r.proc === proc) fn();
    });
  }

  private interval(r: Region, proc: Proc, localMs: number, fn: () => void): void {
    const again = (): void => {
      fn();
      this.timer(r, proc, localMs, again);
    };
    this.timer(r, proc, localMs, again);
  }

  private every(ms: number, fn: () => void): void {
    const again = (): void => {
      if (this.phase === 'done') return;
      fn();
      this.after(ms, null, again);
    };
    this.after(ms, null, again);
  }

  private log(text: string): void {
    this.trace.push(`${(this.now / 1000).toFixed(3).padStart(8)}s ${text}`);
    if (this.trace.length > TRACE_LINES * 2) this.trace.splice(0, this.trace.length - TRACE_LINES);
  }

  private fail(message: string): never {
    const lines = this.trace.slice(-TRACE_LINES);
    throw new ControlSimFailure(
      this.seed,
      `control-group simulation, seed ${this.seed}, at ${(this.now / 1000).toFixed(3)}s (${this.phase}): ${message}\n` +
        `profile: ${describe(this.profile)}${this.minorityOnly ? ' minority-only' : ''}\n` +
        `regions now:\n${this.describeRegions()}\n` +
        `trace (last ${lines.length} lines):\n${lines.join('\n')}`,
    );
  }

  private describeRegions(): string {
    return [...this.regions.values()]
      .map((r) => {
        const p = r.proc;
        if (!p) return `  ${r.id}: down`;
        const s = p.loop.raw.basicStatus();
        const buckets = Object.values(p.replica.state.buckets)
          .map((b) => `${b.bucket}@${b.home}/e${b.epoch}${b.state === 'draining' ? `→${b.switchingTo}` : ''}`)
          .join(' ');
        const reports = Object.entries(p.replica.state.reports)
          .map(([o, d]) => `${o}:[${d.join(',')}]`)
          .join(' ');
        const lease = this.leaseUntil(r, p) - this.local(r);
        return `  ${r.id}: ${s.role} term=${s.term} lead=${s.lead || '-'} applied=${p.replica.applied} lease=${lease > 0 ? Math.round(lease) : 0}ms | ${buckets} | reports ${reports} | checks ${p.contacts
          .view(this.local(r), p.startedMs)
          .map((v) => `${v.region}:${v.up ? 'up' : 'DOWN'}/${v.failures}`)
          .join(' ')}`;
      })
      .join('\n');
  }

  // ------------------------------------------------------------------ a region's sync

  private startProc(r: Region): void {
    r.incarnations += 1;
    const replica = new ControlReplica(this.ids);
    const contacts = new RegionContacts(r.id, this.ids, { checkIntervalMs: SERVICE.checkIntervalMs, failedChecks: SERVICE.failedChecks, leaseMs: SERVICE.leaseMs });
    const loop = new RaftLoop<AppliedControl>({
      node: { id: r.id, storage: r.storage, random: this.random.fork(), electionTimeoutTicks: SERVICE.electionTimeoutTicks, heartbeatIntervalTicks: SERVICE.heartbeatIntervalTicks },
      disk: r.disk,
      sender: { send: (messages) => messages.forEach((m) => this.send(r.id, m.to, { kind: 'raft', m })) },
      stateMachine: replica,
      snapshotEveryEntries: this.profile.snapshotEveryEntries,
    });
    const proc: Proc = {
      incarnation: r.incarnations,
      replica,
      loop,
      contacts,
      startedMs: this.local(r),
      probing: false,
      reporting: null,
      leaderBusy: false,
      lastReconcileMs: -Infinity,
      failingOver: new Set(),
      registering: new Set(),
      pending: new Map(),
      epochs: new Map(Object.values(replica.state.buckets).map((b) => [b.bucket, b.epoch])),
      drainingSince: new Map(),
    };
    r.proc = proc;
    r.dirty = true;
    replica.onApplied((command, result, index) => this.applied(r, proc, command, result, index));
    this.interval(r, proc, SERVICE.tickMs, () => {
      const applied = proc.replica.applied;
      proc.loop.tick();
      proc.loop.process();
      if (proc.replica.applied !== applied) r.dirty = true;
      this.watchLeader();
    });
    this.interval(r, proc, SERVICE.checkIntervalMs, () => this.checkPeers(r, proc));
    this.interval(r, proc, SERVICE.leaderLoopMs, () => this.lead(r, proc));
    proc.loop.process();
  }

  private isLeader(proc: Proc): boolean {
    return proc.loop.raw.basicStatus().role === 'leader';
  }

  private watchLeader(): void {
    let best: { id: string; term: number } | undefined;
    for (const r of this.regions.values()) {
      const s = r.proc?.loop.raw.basicStatus();
      if (s?.role === 'leader' && (!best || s.term > best.term)) best = { id: r.id, term: s.term };
    }
    const leader = best ? `${best.id}@${best.term}` : '';
    if (leader && leader !== this.lastLeader) {
      this.leaderChanges += 1;
      this.log(`leader ${leader}`);
      this.lastLeader = leader;
    }
  }

  /** The service's authority(): the home as this region's applied state says (or the configured one), and whether it may acknowledge. */
  private authority(r: Region, proc: Proc, bucket: string): { home: string; state: string; epoch: number; leaseUntil: number } {
    const registered = proc.replica.state.buckets[bucket];
    if (!registered) this.register(r, proc, bucket, this.configuredHome.get(bucket)!);
    const home = registered?.home ?? this.configuredHome.get(bucket)!;
    return { home, state: registered?.state ?? 'serving', epoch: registered?.epoch ?? 0, leaseUntil: home === r.id ? this.leaseUntil(r, proc) : 0 };
  }

  /** metadata asks its sync (bucket.authority): the lease counts from when it asked. */
  private fetchAuthority(r: Region, proc: Proc, bucket: string): KnownAuthority {
    const now = this.local(r);
    const a = this.authority(r, proc, bucket);
    const remaining = a.home !== r.id ? null : a.leaseUntil === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : Math.max(0, Math.floor(a.leaseUntil - now));
    const known = { home: a.home, state: a.state, epoch: a.epoch, leaseUntil: remaining === null ? 0 : now + remaining, fetchedAt: now };
    r.known.set(bucket, known);
    return known;
  }

  /** Until when (global ms) the region may acknowledge the bucket's writes, with its state as it is now; `leaseEnd` is its lease in global ms. */
  private ableUntilOf(r: Region, bucket: string, leaseEnd: number): number {
    const proc = r.proc;
    if (!proc) return -Infinity;
    const registered = proc.replica.state.buckets[bucket];
    const home = registered?.home ?? this.configuredHome.get(bucket)!;
    if (home !== r.id || (registered && registered.state !== 'serving')) return -Infinity;
    return leaseEnd;
  }

  /** The region's lease end in global ms (leaseRemainingMs = floor(until - now) must be > 0). */
  private leaseEndOf(r: Region): number {
    if (!r.proc) return -Infinity;
    const until = this.leaseUntil(r, r.proc);
    return until === Number.POSITIVE_INFINITY ? Infinity : (until - r.offset) / r.rate;
  }

  private ableRegions(bucket: string): string[] {
    return this.ids.filter((id) => this.regions.get(id)!.ableUntil.get(bucket)! > this.now);
  }

  /** After any event on `r`: its ability can only have grown through that event; check no other region is able at once. */
  private refreshAbility(r: Region): void {
    const leaseEnd = this.leaseEndOf(r);
    for (const bucket of this.bucketNames) {
      const before = r.ableUntil.get(bucket) ?? -Infinity;
      const until = leaseEnd > this.now ? this.ableUntilOf(r, bucket, leaseEnd) : -Infinity;
      r.ableUntil.set(bucket, until);
      const wasAble = before > this.now;
      const isAble = until > this.now;
      if (isAble && !wasAble) {
        const p = r.proc!;
        const b = p.replica.state.buckets[bucket];
        this.log(`${r.id} may acknowledge ${bucket} (${b ? `home at epoch ${b.epoch}` : 'configured home, unregistered here'}, applied ${p.replica.applied}, lease ${Math.round(this.leaseUntil(r, p) - this.local(r))}ms)`);
      } else if (!isAble && wasAble && before !== -Infinity && until === -Infinity) {
        this.log(`${r.id} stops acknowledging ${bucket} (${r.proc ? 'no longer the serving home' : 'down'})`);
      }
      if (!isAble) continue;
      let clash = false;
      for (const other of this.regions.values()) if (other !== r && other.ableUntil.get(bucket)! > this.now) clash = true;
      if (clash) {
        const others = this.ids.filter((id) => id !== r.id && this.regions.get(id)!.ableUntil.get(bucket)! > this.now);
        const who = others.map((id) => `${id} (until ${((this.regions.get(id)!.ableUntil.get(bucket)! - this.now) | 0)}ms more)`).join(', ');
        this.fail(`SPLIT BRAIN: ${r.id} and ${who} may both acknowledge writes to ${bucket}`);
      }
    }
  }

  private applied(r: Region, proc: Proc, command: ControlCommand, result: ControlResult, index: number): void {
    r.dirty = true;
    const state = proc.replica.state;
    const digest = JSON.stringify(state);
    const seen = this.committed.get(index);
    if (seen === undefined) {
      this.committed.set(index, digest);
      if (command.type !== 'RegisterBucket' || result.ok) this.log(`commit #${index} ${describeCommand(command)} → ${result.ok ? 'ok' : `refused: ${result.reason}`}`);
      if (command.type === 'PromoteHome' && result.ok) this.promoted(command, index);
      if (command.type === 'CompleteSwitchover' && result.ok) this.switched(command);
    } else if (seen !== digest) {
      this.fail(`${r.id} reached a different state at index ${index}:\n  first: ${seen}\n  ${r.id}: ${digest}`);
    }
    for (const b of Object.values(state.buckets)) {
      const before = proc.epochs.get(b.bucket) ?? 0;
      if (b.epoch < before) this.fail(`${r.id}: ${b.bucket}'s epoch went back from ${before} to ${b.epoch} at index ${index}`);
      proc.epochs.set(b.bucket, b.epoch);
    }
  }

  /** A minority partition never promotes: a majority of the others must have been apart from the old home for the detection bound. */
  private promoted(command: Extract<ControlCommand, { type: 'PromoteHome' }>, index: number): void {
    if (this.promotionsSeen.has(index)) return;
    this.promotionsSeen.add(index);
    this.failovers += 1;
    if (this.minorityOnly && (this.phase === 'chaos' || this.phase === 'settle')) {
      this.fail(`${command.bucket} failed over from ${command.from} to ${command.to}, but only a minority of regions was ever cut off`);
    }
    const apart = this.ids.filter((id) => id !== command.from && this.hasBeenApartLong(id, command.from));
    if (apart.length < Math.floor(this.ids.length / 2) + 1) {
      this.fail(`${command.bucket} failed over from ${command.from}, but only ${apart.join(', ') || 'no region'} ever lost contact with it for the failover window`);
    }
  }

  private switched(command: Extract<ControlCommand, { type: 'CompleteSwitchover' }>): void {
    this.switchovers += 1;
    // No acknowledged write lost: the new home has applied every write the old home acknowledged to the bucket.
    const from = this.previousHome.get(command.bucket);
    if (!from) return;
    const to = this.regions.get(command.to)!;
    const need = this.regions.get(from)!.lastAck.get(command.bucket) ?? 0;
    const have = to.appliedThrough.get(from) ?? 0;
    if (have < need) this.fail(`switchover of ${command.bucket} ${from} → ${command.to} completed with ${command.to} at ${from}'s change ${have}, but ${from} had acknowledged a write to it as change ${need}`);
  }

  // ---- checks of the other regions, grants, reports (checkPeers, answerProbe, report)

  private checkPeers(r: Region, proc: Proc): void {
    if (proc.probing) return;
    proc.probing = true;
    const peers = proc.contacts.peerNames();
    let open = peers.length;
    const done = (): void => {
      if (--open > 0) return;
      if (this.service.reportBlocksProbing) {
        this.report(r, proc, () => {
          proc.probing = false;
        });
      } else {
        proc.probing = false;
        this.report(r, proc, () => undefined);
      }
    };
    for (const peer of peers) {
      const sentMs = this.local(r);
      this.request<ProbeReply>(r, proc, peer, 'probe', { from: r.id }, SERVICE.probeTimeoutMs, (error, reply) => {
        if (error || !reply) proc.contacts.failed(peer);
        else {
          proc.contacts.answered(peer, sentMs, this.local(r), reply, proc.replica.applied);
          r.dirty = true;
        }
        done();
      });
    }
  }

  private leaseUntil(r: Region, proc: Proc): number {
    return proc.contacts.leaseUntilMs(committedReportOf(proc.replica.state, r.id));
  }

  private answerProbe(r: Region, proc: Proc, from: string): ProbeReply {
    const now = this.local(r);
    proc.contacts.probedBy(from, now);
    const committed = committedReportOf(proc.replica.state, r.id);
    const granted =
      this.injected === 'grant-on-committed-report-only'
        ? !proc.contacts.isDownHere(from, now, proc.startedMs) && !(committed?.down ?? []).includes(from)
        : proc.contacts.grants(from, committed, now, proc.startedMs);
    return { region: r.id, granted, appliedIndex: proc.replica.applied };
  }

  private report(r: Region, proc: Proc, finished: () => void): void {
    const down = proc.contacts.downHere(this.local(r), proc.startedMs);
    const key = down.join(',');
    if (proc.reporting === key) return finished();
    const committed = committedReportOf(proc.replica.state, r.id);
    // The wall clock: this region's clock, which runs on across restarts.
    const proposal = proc.contacts.reportDue(down, committed, this.local(r));
    if (!proposal) return finished();
    proc.reporting = key;
    this.log(`${r.id} reports [${key}] down, #${proposal.seq} (committed: [${committed?.down.join(',') ?? ''}] #${committed?.seq ?? '-'})`);
    this.propose(r, proc, { type: 'ReportRegions', observer: r.id, down: proposal.down, seq: proposal.seq }, () => {
      proc.reporting = null;
      finished();
    });
  }

  // ---- proposals through the leader (propose, proposeHere)

  private propose(r: Region, proc: Proc, command: ControlCommand, cb: Callback<AppliedControl>): void {
    const deadline = this.local(r) + SERVICE.leaderWaitMs;
    const attempt = (): void => {
      const lead = proc.loop.raw.basicStatus().lead;
      if (lead === r.id) return this.proposeHere(r, proc, command, cb);
      if (lead !== NO_NODE) return this.request<AppliedControl>(r, proc, lead, 'propose', command, SERVICE.proposalTimeoutMs, cb);
      if (this.local(r) > deadline) return cb('no leader');
      this.timer(r, proc, 50, attempt);
    };
    attempt();
  }

  private proposeHere(r: Region, proc: Proc, command: ControlCommand, cb: Callback<AppliedControl>): void {
    if (!this.isLeader(proc)) return cb(`${r.id} does not lead`);
    let settled = false;
    const once: Callback<AppliedControl> = (error, value) => {
      if (settled) return;
      settled = true;
      cb(error, value);
    };
    const result = proc.loop.propose(encodeControlCommand(command), (outcome) => (outcome.status === 'applied' ? once(null, outcome.result) : once(outcome.status)));
    if (!result.ok) return once(`refused: ${result.reason}`);
    this.timer(r, proc, SERVICE.proposalTimeoutMs, () => once('proposal timeout'));
    proc.loop.process();
  }

  // ---- the leader's work (lead, failOver, reconcile)

  private lead(r: Region, proc: Proc): void {
    if (!this.isLeader(proc) || proc.leaderBusy) return;
    proc.leaderBusy = true;
    const state = proc.replica.state;
    const needing = bucketsNeedingFailover(state).filter((b) => !proc.failingOver.has(b.bucket));
    let open = needing.length + 1;
    const done = (): void => {
      if (--open > 0) return;
      if (this.local(r) - proc.lastReconcileMs > SERVICE.reconcileMs) {
        proc.lastReconcileMs = this.local(r);
        for (const bucket of this.bucketNames) if (!proc.replica.state.buckets[bucket]) this.register(r, proc, bucket, this.configuredHome.get(bucket)!);
      }
      proc.leaderBusy = false;
    };
    for (const b of needing) this.failOver(r, proc, b.bucket, b.home, b.epoch, done);
    if (!this.service.noStaleDrainRecovery) {
      for (const b of Object.values(state.buckets)) {
        if (b.state !== 'draining') {
          proc.drainingSince.delete(b.bucket);
          continue;
        }
        const since = proc.drainingSince.get(b.bucket) ?? this.local(r);
        proc.drainingSince.set(b.bucket, since);
        if (this.local(r) - since < STALE_DRAIN_MS) continue;
        this.log(`${r.id} (leader) cancels ${b.bucket}'s switchover: draining for ${Math.round(this.local(r) - since)}ms`);
        proc.drainingSince.delete(b.bucket);
        open += 1;
        this.propose(r, proc, { type: 'CancelSwitchover', bucket: b.bucket, epoch: b.epoch }, () => done());
      }
    }
    done();
  }

  private failOver(r: Region, proc: Proc, bucket: string, home: string, epoch: number, finished: () => void): void {
    proc.failingOver.add(bucket);
    const end = (): void => {
      proc.failingOver.delete(bucket);
      finished();
    };
    const state = proc.replica.state;
    const candidates = this.ids.filter((id) => id !== home && !isDown(state, id));
    const progress: ProgressReply[] = [];
    let open = candidates.length;
    const decide = (): void => {
      const to = chooseNewHome(progress);
      if (!to) return end();
      this.propose(r, proc, { type: 'PromoteHome', bucket, from: home, to, epoch, at: iso(this.local(r)) }, () => end());
    };
    if (open === 0) return decide();
    for (const c of candidates) {
      this.progressOf(r, proc, c, home, (error, reply) => {
        if (!error && reply) progress.push(reply);
        if (--open === 0) decide();
      });
    }
  }

  private register(r: Region, proc: Proc, bucket: string, home: string): void {
    if (proc.registering.has(bucket)) return;
    proc.registering.add(bucket);
    this.propose(r, proc, { type: 'RegisterBucket', bucket, home, at: iso(this.local(r)) }, () => proc.registering.delete(bucket));
  }

  private progressHere(r: Region, proc: Proc, source: string): ProgressReply {
    return { region: r.id, source, appliedThrough: source === r.id ? r.ownSeq : (r.appliedThrough.get(source) ?? 0), appliedIndex: proc.replica.applied, ownLastSequence: r.ownSeq };
  }

  private progressOf(r: Region, proc: Proc, region: string, source: string, cb: Callback<ProgressReply>): void {
    if (region === r.id) return cb(null, this.progressHere(r, proc, source));
    this.request<ProgressReply>(r, proc, region, 'progress', { source }, SERVICE.progressTimeoutMs, cb);
  }

  // ---- planned switchover (the service's switchover(), run by an operator at some region)

  private switchover(r: Region, proc: Proc, bucket: string, to: string): void {
    const current = proc.replica.state.buckets[bucket];
    if (!current || (current.home === to && current.state === 'serving')) return;
    const from = current.home;
    this.log(`operator at ${r.id}: switch ${bucket} over from ${from} to ${to}`);
    const cancel = (): void => this.propose(r, proc, { type: 'CancelSwitchover', bucket, epoch: current.epoch }, () => undefined);
    this.propose(r, proc, { type: 'BeginSwitchover', bucket, to, epoch: current.epoch, at: iso(this.local(r)) }, (error, begin) => {
      // The outcome is unknown: it may have committed. Cancelling is harmless if it did not.
      if (error && !this.service.beginUnknownLeavesDrain) return cancel();
      if (error || !begin || !begin.result.ok) return;
      this.previousHome.set(bucket, from);
      this.waitFor<number>(
        r,
        proc,
        (answer) => this.progressOf(r, proc, from, from, (e, home) => answer(!e && home && home.appliedIndex >= begin.index ? home.ownLastSequence : null)),
        (target) => {
          if (target === null) return cancel();
          this.waitFor<boolean>(
            r,
            proc,
            (answer) => this.progressOf(r, proc, to, from, (e, p) => answer(!e && p && p.appliedThrough >= target ? true : null)),
            (ok) => {
              if (!ok) return cancel();
              this.propose(r, proc, { type: 'CompleteSwitchover', bucket, to, epoch: current.epoch, at: iso(this.local(r)) }, () => undefined);
            },
          );
        },
      );
    });
  }

  private waitFor<T>(r: Region, proc: Proc, probe: (answer: (value: T | null) => void) => void, then: (value: T | null) => void): void {
    const deadline = this.local(r) + SERVICE.switchoverCatchUpMs;
    const attempt = (): void =>
      probe((value) => {
        if (value !== null) return then(value);
        if (this.local(r) > deadline) return then(null);
        this.timer(r, proc, SERVICE.switchoverPollMs, attempt);
      });
    attempt();
  }

  // ------------------------------------------------------------------ writes and replication

  /** Every region's metadata tries a write to every bucket (HomeRegionForwarder.homeFor, the append, assertStillHome). */
  private writeRound(): void {
    if (this.phase === 'chaos') for (const b of this.bucketNames) if (this.ableRegions(b).length > 0) this.ableMs += WRITE_EVERY_MS;
    for (const r of this.regions.values()) {
      const proc = r.proc;
      if (!proc) continue;
      for (const bucket of this.bucketNames) this.write(r, proc, bucket);
    }
  }

  private write(r: Region, proc: Proc, bucket: string): void {
    const now = this.local(r);
    let a = r.known.get(bucket);
    if (!a || now - a.fetchedAt >= METADATA.authorityTtlMs) a = this.fetchAuthority(r, proc, bucket);
    if (a.home !== r.id) return;
    if (a.leaseUntil - now < METADATA.leaseMarginMs) a = this.fetchAuthority(r, proc, bucket);
    if (a.home !== r.id || a.state === 'draining' || a.leaseUntil - now < METADATA.leaseMarginMs) return;
    const epoch = a.epoch;
    this.after(this.random.between(METADATA.minAppendMs, METADATA.maxAppendMs), r.id, () => {
      // The region went down during the append: nobody hears back.
      if (r.proc !== proc) return;
      r.ownSeq += 1;
      const at = this.local(r);
      if (this.service.postAppendCachedCheck) {
        const k = r.known.get(bucket);
        if (k && k.home === r.id && k.leaseUntil <= at) return;
      } else {
        const k = this.fetchAuthority(r, proc, bucket);
        if (k.home !== r.id || k.state !== 'serving' || k.leaseUntil <= at) return;
      }
      r.lastAck.set(bucket, r.ownSeq);
      this.acks += 1;
      this.acknowledged(r, bucket, epoch);
    });
  }

  /**
   * The clients' records: a write acknowledged at an epoch after another region acknowledged one
   * at a later epoch means two homes acknowledged at once.
   */
  private acknowledged(r: Region, bucket: string, epoch: number): void {
    let firsts = this.firstAckOfEpoch.get(bucket);
    if (!firsts) this.firstAckOfEpoch.set(bucket, (firsts = new Map()));
    for (const [later, first] of firsts) {
      if (later > epoch && first.region !== r.id) {
        this.fail(
          `SPLIT BRAIN (clients' records): ${r.id} acknowledged a write to ${bucket} as its home at epoch ${epoch}, ${Math.round(this.now - first.at)}ms after ${first.region} had acknowledged one at epoch ${later}`,
        );
      }
    }
    if (!firsts.has(epoch)) {
      firsts.set(epoch, { region: r.id, at: this.now });
      this.log(`${r.id} acknowledges its first write to ${bucket} at epoch ${epoch}`);
    }
  }

  private replicateRound(): void {
    for (const r of this.regions.values()) {
      if (!r.proc) continue;
      for (const peer of this.ids) if (peer !== r.id) this.send(r.id, peer, { kind: 'replicate', source: r.id, seq: r.ownSeq });
    }
  }

  // ------------------------------------------------------------------ network

  private linkUp(from: string, to: string): boolean {
    return (this.cuts.get(`${from}>${to}`) ?? 0) === 0;
  }

  private send(from: string, to: string, payload: Payload): void {
    if (!this.linkUp(from, to)) return;
    if (this.phase === 'chaos' && this.net.chance(this.profile.dropProbability)) return;
    const delay = this.latency.get(`${from}>${to}`)! + this.net.nextInt(this.profile.jitterMs + 1);
    this.after(delay, to, () => {
      // A message in flight when the link is cut is lost with it.
      if (!this.linkUp(from, to)) return;
      const r = this.regions.get(to)!;
      if (r.proc) this.receive(r, r.proc, from, payload);
    });
  }

  private request<T>(r: Region, proc: Proc, to: string, op: 'probe' | 'propose' | 'progress', body: unknown, timeoutMs: number, cb: Callback<T>): void {
    const id = this.nextId++;
    proc.pending.set(id, cb as Callback<unknown>);
    this.send(r.id, to, { kind: 'request', id, op, body });
    this.timer(r, proc, timeoutMs, () => {
      if (proc.pending.delete(id)) cb('timeout');
    });
  }

  private receive(r: Region, proc: Proc, from: string, payload: Payload): void {
    switch (payload.kind) {
      case 'raft': {
        // A snapshot restores the state without a listener hearing it: compare.
        const applied = proc.replica.applied;
        proc.loop.step(payload.m);
        proc.loop.process();
        if (proc.replica.applied !== applied) r.dirty = true;
        this.watchLeader();
        return;
      }
      case 'replicate':
        r.appliedThrough.set(payload.source, Math.max(r.appliedThrough.get(payload.source) ?? 0, payload.seq));
        return;
      case 'reply': {
        const cb = proc.pending.get(payload.id);
        if (!cb) return;
        proc.pending.delete(payload.id);
        cb(payload.error, payload.value);
        return;
      }
      case 'request': {
        const reply = (error: string | null, value?: unknown): void => this.send(r.id, from, { kind: 'reply', id: payload.id, error, value });
        switch (payload.op) {
          case 'probe':
            return reply(null, this.answerProbe(r, proc, (payload.body as { from: string }).from));
          case 'progress':
            return reply(null, this.progressHere(r, proc, (payload.body as { source: string }).source));
          case 'propose': {
            let command: ControlCommand;
            try {
              command = validControlCommand(payload.body, this.ids);
            } catch (error) {
              return reply(String(error));
            }
            return this.proposeHere(r, proc, command, reply);
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ faults

  private faultGap(): number {
    return 200 + this.random.nextInt(2 * this.profile.meanFaultGapMs);
  }

  private homes(): string[] {
    const state = this.anyState();
    return this.bucketNames.map((b) => state?.buckets[b]?.home ?? this.configuredHome.get(b)!);
  }

  private anyState(): ControlState | undefined {
    let best: Proc | undefined;
    for (const r of this.regions.values()) if (r.proc && (!best || r.proc.replica.applied > best.replica.applied)) best = r.proc;
    return best?.replica.state;
  }

  private leaderId(): string | undefined {
    return [...this.regions.values()].find((r) => r.proc && this.isLeader(r.proc))?.id;
  }

  /** A region to hurt: often a bucket's home or the leader (never a home when only minorities may be cut). */
  private victim(): string | undefined {
    const homes = this.homes();
    const pool = this.minorityOnly ? this.ids.filter((id) => !homes.includes(id)) : this.ids;
    if (pool.length === 0) return undefined;
    if (!this.minorityOnly) {
      const roll = this.random.nextFloat();
      if (roll < 0.45) return this.random.pick(homes);
      const leader = this.leaderId();
      if (roll < 0.65 && leader) return leader;
    }
    return this.random.pick(pool);
  }

  private injectFault(): void {
    if (this.phase !== 'chaos') return;
    this.after(this.faultGap(), null, () => this.injectFault());
    // A minority at a time: two faults on different regions could add up to a majority cut off from a home.
    if (this.minorityOnly && this.activeFaults > 0) return;
    const kind = this.random.pick(this.profile.kinds);
    // Around the failover window (2-4 s) most of the time: the edge where detection, grants and leases race.
    const lasting = (): number => (this.random.chance(0.5) ? this.random.between(1_800, 4_500) : this.random.between(300, 9_000));
    switch (kind) {
      case 'isolate': {
        const v = this.victim();
        if (!v) return;
        this.cutFor(`isolate ${v}`, this.pairsBetween([v], this.ids.filter((id) => id !== v)), lasting());
        return;
      }
      case 'minority': {
        const homes = this.homes();
        const pool = this.shuffle(this.minorityOnly ? this.ids.filter((id) => !homes.includes(id)) : this.ids);
        const size = Math.min(pool.length, Math.floor((this.ids.length - 1) / 2));
        if (size === 0) return;
        const side = pool.slice(0, size);
        this.cutFor(`cut minority {${side.join(',')}}`, this.pairsBetween(side, this.ids.filter((id) => !side.includes(id))), lasting());
        return;
      }
      case 'partial': {
        const v = this.victim();
        if (!v) return;
        const others = this.shuffle(this.ids.filter((id) => id !== v));
        const cutFrom = others.slice(0, 1 + this.random.nextInt(others.length - 1));
        this.cutFor(`cut ${v} from {${cutFrom.join(',')}}`, this.pairsBetween([v], cutFrom), lasting());
        return;
      }
      case 'restart': {
        const v = this.victim();
        const r = v ? this.regions.get(v)! : undefined;
        if (!r?.proc) return;
        this.faults += 1;
        this.activeFaults += 1;
        this.crash(r);
        const generation = this.generation;
        this.after(this.random.between(50, 1_500), null, () => {
          if (generation !== this.generation) return;
          this.activeFaults -= 1;
          this.restart(r);
        });
        return;
      }
      case 'asymmetric': {
        const v = this.victim();
        if (!v) return;
        const other = this.random.pick(this.ids.filter((id) => id !== v));
        const pair = this.random.chance(0.5) ? `${v}>${other}` : `${other}>${v}`;
        this.cutFor(`drop ${pair} (one way)`, [pair], lasting());
        return;
      }
      case 'flap': {
        const v = this.victim();
        if (!v) return;
        const others = this.random.chance(0.5) ? this.ids.filter((id) => id !== v) : [this.random.pick(this.ids.filter((id) => id !== v))];
        const pairs = this.pairsBetween([v], others);
        const until = this.now + this.random.between(2_000, 10_000);
        this.faults += 1;
        this.activeFaults += 1;
        this.log(`fault: flap ${v}↔{${others.join(',')}} until ${(until / 1000).toFixed(3)}s`);
        const generation = this.generation;
        const flip = (cut: boolean): void => {
          if (generation !== this.generation) return;
          if (this.phase !== 'chaos' || this.now >= until) {
            if (cut) this.uncut(pairs);
            this.activeFaults -= 1;
            return;
          }
          if (cut) this.uncut(pairs);
          else this.cut(pairs);
          this.after(cut ? this.random.between(50, 1_500) : this.random.between(1_500, 4_000), null, () => flip(!cut));
        };
        flip(false);
        return;
      }
      case 'crash': {
        const v = this.victim();
        const r = v ? this.regions.get(v)! : undefined;
        if (!r?.proc) return;
        const downMs = this.random.between(300, 7_000);
        this.faults += 1;
        this.activeFaults += 1;
        this.crash(r);
        const generation = this.generation;
        this.after(downMs, null, () => {
          if (generation !== this.generation) return;
          this.activeFaults -= 1;
          this.restart(r);
        });
        return;
      }
      case 'switchover': {
        const at = this.regions.get(this.random.pick(this.ids))!;
        if (!at.proc) return;
        this.switchover(at, at.proc, this.random.pick(this.bucketNames), this.random.pick(this.ids));
        return;
      }
    }
  }

  private pairsBetween(side: readonly string[], others: readonly string[]): string[] {
    const pairs: string[] = [];
    for (const a of side) for (const b of others) pairs.push(`${a}>${b}`, `${b}>${a}`);
    return pairs;
  }

  private cutFor(what: string, pairs: readonly string[], ms: number): void {
    this.faults += 1;
    this.activeFaults += 1;
    this.log(`fault: ${what} for ${ms}ms`);
    this.cut(pairs);
    const generation = this.generation;
    this.after(ms, null, () => {
      if (this.phase !== 'chaos' || generation !== this.generation) return;
      this.activeFaults -= 1;
      this.uncut(pairs);
      this.log(`healed: ${what}`);
    });
  }

  private cut(pairs: readonly string[]): void {
    for (const p of pairs) this.cuts.set(p, (this.cuts.get(p) ?? 0) + 1);
    this.trackApart();
  }

  private uncut(pairs: readonly string[]): void {
    for (const p of pairs) this.cuts.set(p, Math.max(0, (this.cuts.get(p) ?? 0) - 1));
    this.trackApart();
  }

  private crash(r: Region): void {
    const proc = r.proc;
    if (!proc) return;
    this.crashes += 1;
    this.log(`crash ${r.id}`);
    proc.loop.stop();
    r.proc = undefined;
    r.dirty = true;
    r.known.clear();
    this.trackApart();
  }

  private restart(r: Region): void {
    if (r.proc) return;
    this.log(`restart ${r.id}`);
    this.startProc(r);
    this.trackApart();
  }

  /**
   * Ground truth for "a minority never promotes": which pairs of regions have been unable to talk
   * (a cut either way, or one of them down) for the failover window. A reconnection shorter than a
   * check round and two trips does not end an episode: no probe need have crossed it.
   */
  private trackApart(): void {
    for (const a of this.ids) {
      for (const b of this.ids) {
        if (a >= b) continue;
        const key = `${a}|${b}`;
        const apart = !this.regions.get(a)!.proc || !this.regions.get(b)!.proc || !this.linkUp(a, b) || !this.linkUp(b, a);
        const episode = this.apart.get(key);
        if (apart) {
          if (!episode) this.apart.set(key, { since: this.now, reconnectedAt: undefined });
          else if (episode.reconnectedAt !== undefined) {
            if (this.now - episode.reconnectedAt < this.mergeGapMs()) episode.reconnectedAt = undefined;
            else {
              this.closeEpisode(key, episode);
              this.apart.set(key, { since: this.now, reconnectedAt: undefined });
            }
          }
        } else if (episode && episode.reconnectedAt === undefined) {
          episode.reconnectedAt = this.now;
        }
      }
    }
  }

  private mergeGapMs(): number {
    return SERVICE.checkIntervalMs * (1 + this.profile.clockSkew) + 2 * (this.profile.baseLatencyMs + 20 + this.profile.jitterMs);
  }

  /**
   * The shortest time apart that can make a region find another down: `failedChecks` probes in a
   * row must fail, so the cut must span `failedChecks - 1` check intervals, less a round trip at
   * either end (the window since the last contact may have begun up to a round before the cut).
   */
  private detectionBoundMs(): number {
    const maxTrip = this.profile.baseLatencyMs + 20 + this.profile.jitterMs;
    return ((SERVICE.failedChecks - 1) * SERVICE.checkIntervalMs) / (1 + this.profile.clockSkew) - 2 * maxTrip - 1;
  }

  private closeEpisode(key: string, episode: { since: number; reconnectedAt: number | undefined }): void {
    if ((episode.reconnectedAt ?? this.now) - episode.since >= this.detectionBoundMs()) this.longApart.add(key);
  }

  private hasBeenApartLong(a: string, b: string): boolean {
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    if (this.longApart.has(key)) return true;
    const episode = this.apart.get(key);
    return episode !== undefined && (episode.reconnectedAt ?? this.now) - episode.since >= this.detectionBoundMs();
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.random.nextInt(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  // ------------------------------------------------------------------ phases: settle, liveness, healed

  private healAll(): void {
    this.generation += 1;
    this.activeFaults = 0;
    this.cuts.clear();
    for (const r of this.regions.values()) if (!r.proc) this.restart(r);
    this.trackApart();
  }

  private startSettle(): void {
    this.phase = 'settle';
    this.log('--- chaos over: every link healed, every region up');
    this.healAll();
    this.awaitConvergence(() => this.startLiveness());
  }

  /** Every region agrees on every bucket's home, that home (and no other region) may acknowledge, nothing is draining. */
  private awaitConvergence(then: () => void, notHome?: { region: string; buckets: readonly string[] }): void {
    const deadline = this.now + CONVERGE_WITHIN_MS;
    const check = (): void => {
      const problem = this.convergenceProblem(notHome);
      if (!problem) return then();
      if (this.now > deadline) this.fail(`no convergence ${CONVERGE_WITHIN_MS}ms after healing: ${problem}`);
      this.after(CHECK_EVERY_MS, null, check);
    };
    this.after(CHECK_EVERY_MS, null, check);
  }

  private convergenceProblem(notHome?: { region: string; buckets: readonly string[] }): string | null {
    const procs = [...this.regions.values()].map((r) => r.proc!);
    const views = procs.map((p) => JSON.stringify(this.bucketNames.map((b) => p.replica.state.buckets[b] ?? null)));
    if (new Set(views).size !== 1) return 'regions disagree on the buckets';
    const state = procs[0].replica.state;
    for (const bucket of this.bucketNames) {
      const b = state.buckets[bucket];
      if (!b) return `${bucket} is not registered`;
      if (b.state !== 'serving') return `${bucket} is draining`;
      const able = this.ableRegions(bucket);
      if (able.length !== 1 || able[0] !== b.home) return `${bucket}: home ${b.home}, able to acknowledge: [${able.join(',')}]`;
      if (notHome?.buckets.includes(bucket) && b.home === notHome.region) return `${bucket} went back to ${notHome.region}`;
    }
    return null;
  }

  private startLiveness(): void {
    this.phase = 'liveness';
    const state = this.regions.get(this.ids[0])!.proc!.replica.state;
    const target = state.buckets[this.bucketNames[0]].home;
    const owned = this.bucketNames.filter((b) => state.buckets[b].home === target);
    const cutAt = this.now;
    const crash = this.random.chance(0.4);
    this.log(`--- liveness: ${crash ? 'crash' : 'cut off'} ${target}, home of ${owned.join(', ')}`);
    if (crash) this.crash(this.regions.get(target)!);
    else this.cut(this.pairsBetween([target], this.ids.filter((id) => id !== target)));
    const deadline = cutAt + LIVENESS_BOUND_MS;
    const others = this.ids.filter((id) => id !== target);
    const check = (): void => {
      const ok = owned.every((bucket) => {
        const homes = new Set(others.map((id) => this.regions.get(id)!.proc!.replica.state.buckets[bucket]?.home));
        const [home] = [...homes];
        return homes.size === 1 && home !== target && this.ableRegions(bucket).includes(home!);
      });
      if (ok) {
        this.rtoMs = this.now - cutAt;
        this.log(`--- new homes able after ${this.rtoMs}ms; healing ${target}`);
        this.phase = 'healed';
        if (crash) this.restart(this.regions.get(target)!);
        else this.healAll();
        this.awaitConvergence(() => {
          this.phase = 'done';
        }, { region: target, buckets: owned });
        return;
      }
      if (this.now > deadline) this.fail(`LIVENESS: ${target} was cut off ${LIVENESS_BOUND_MS}ms ago and ${owned.join(', ')} has no new home able to acknowledge`);
      this.after(CHECK_EVERY_MS, null, check);
    };
    this.after(CHECK_EVERY_MS, null, check);
  }
}

function iso(localMs: number): string {
  return new Date(1_700_000_000_000 + Math.floor(localMs)).toISOString();
}

function describe(p: ControlSimProfile): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(' ');
}

function describeCommand(c: ControlCommand): string {
  switch (c.type) {
    case 'RegisterBucket':
      return `RegisterBucket ${c.bucket}@${c.home}`;
    case 'UnregisterBucket':
      return `UnregisterBucket ${c.bucket}`;
    case 'ReportRegions':
      return `ReportRegions ${c.observer}: [${c.down.join(',')}] down`;
    case 'PromoteHome':
      return `PromoteHome ${c.bucket} ${c.from}→${c.to} (epoch ${c.epoch})`;
    case 'BeginSwitchover':
      return `BeginSwitchover ${c.bucket}→${c.to} (epoch ${c.epoch})`;
    case 'CompleteSwitchover':
      return `CompleteSwitchover ${c.bucket}→${c.to} (epoch ${c.epoch})`;
    case 'CancelSwitchover':
      return `CancelSwitchover ${c.bucket} (epoch ${c.epoch})`;
    case 'ClaimDrill':
      return `ClaimDrill ${c.id} (${c.region} out until ${c.until})`;
    case 'ReleaseDrill':
      return `ReleaseDrill ${c.id}`;
  }
}
