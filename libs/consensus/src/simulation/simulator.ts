import { MemoryDisk } from '../driver/memory-disk';
import { RaftLoop, type ProposalOutcome, type ReadOutcome } from '../driver/raft-loop';
import type { ReplicatedStateMachine } from '../driver/raft-loop.port';
import { MemoryStorage } from '../lib/memory-storage';
import { SeededRandom } from '../lib/random-source';
import type { Message, NodeId } from '../lib/raft.types';
import { EventQueue } from './event-queue';
import { BASE_TICK_MS, describeProfile, drawFaultProfile, type FaultProfile } from './fault-profile';
import { KvStateMachine, type KvCommand } from './kv-state-machine';
import { checkKeyValueHistory, type KeyValueOperation } from './linearizability-checker';
import { SafetyChecker } from './safety-checker';
import { SimulatedDisk } from './simulated-disk';

export const DEFAULT_SAFETY_PHASE_MS = 5_000;
export const DEFAULT_HEALING_BOUND_MS = 5_000;
const ELECTION_TIMEOUT_TICKS = 10;
const HEARTBEAT_INTERVAL_TICKS = 2;
const MAX_INFLIGHT_APPENDS = 8;
const CLIENT_COUNT = 5;
const KEYS = ['x', 'y', 'z'] as const;
const CLIENT_THINK_MS = 15;
const OP_TIMEOUT_MS = 300;
const MIN_PARTITION_MS = 100;
const MAX_PARTITION_MS = 1_200;
const MIN_DOWN_MS = 30;
const MAX_DOWN_MS = 600;
/** A node that crashes right after voting comes back fast, while the election is still on. */
const VOTE_CRASH_MAX_DOWN_MS = 20;
const CONVERGENCE_CHECK_MS = 25;
const LOG_MATCHING_CHECK_MS = 250;
/** Entries kept behind a snapshot so a slightly lagging follower still catches up from the log. */
const ENTRIES_KEPT_AFTER_SNAPSHOT = 4;
/** A runaway guard: a run that needs more events than this is itself a bug. */
const MAX_EVENTS = 2_000_000;

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(`seed ${seed}: ${message}`);
    this.name = 'SimulationFailure';
  }
}

export interface SimulationReport {
  readonly seed: number;
  readonly profile: FaultProfile;
  readonly events: number;
  readonly elections: number;
  readonly committedIndex: number;
  readonly completedWrites: number;
  readonly completedReads: number;
  readonly crashes: number;
  readonly snapshotsInstalled: number;
  readonly convergedAfterMs: number;
}

type SimEvent =
  | { readonly type: 'tick'; readonly node: NodeId; readonly incarnation: number }
  | { readonly type: 'deliver'; readonly message: Message }
  | { readonly type: 'fsync'; readonly node: NodeId; readonly incarnation: number }
  | { readonly type: 'client'; readonly client: number }
  | { readonly type: 'op-timeout'; readonly op: number }
  | { readonly type: 'fault' }
  | { readonly type: 'heal-partition'; readonly partition: number }
  | { readonly type: 'restart'; readonly node: NodeId }
  | { readonly type: 'crash'; readonly node: NodeId; readonly incarnation: number; readonly downMs: number }
  | { readonly type: 'check-logs' }
  | { readonly type: 'check-convergence' };

/** One node: the production Ready loop (RaftLoop) on a simulated disk and network, with a key-value store on top. */
interface SimNode {
  readonly id: NodeId;
  /** What survived the last fsync: the only state a crash keeps. */
  readonly storage: MemoryStorage;
  /** Holds a written Ready until its fsync completes; lost (or not) on a crash, its messages unsent. */
  readonly disk: SimulatedDisk;
  readonly tickMs: number;
  alive: boolean;
  incarnation: number;
  loop: RaftLoop<KvCommand | undefined>;
  kv: KvStateMachine;
}

interface ClientOp extends KeyValueOperation {
  readonly client: number;
  value: string | null;
  returnedAt: number | undefined;
  discarded: boolean;
}

/** Where a Figure-8 schedule stands; every stage also has a heal timeout that abandons it. */
type Figure8Stage =
  | { readonly stage: 'await-other-side-leader'; readonly minority: ReadonlySet<NodeId>; readonly term: number }
  | { readonly stage: 'await-minority-side-leader'; readonly minority: ReadonlySet<NodeId>; readonly term: number }
  | { readonly stage: 'await-commit'; readonly minority: ReadonlySet<NodeId>; readonly leader: NodeId; readonly term: number; readonly commit: number };

export interface SimulationOptions {
  readonly safetyPhaseMs?: number;
  readonly healingBoundMs?: number;
}

/**
 * One seeded run: N Raft nodes, a simulated clock, network and disk, client traffic and a fault
 * schedule all drawn from `seed`. Each node is the production `RaftLoop` (what `RaftDriver` runs
 * with timers, NATS and the file log) with the simulated clock, network and disk as its ports.
 * Checkers (`SafetyChecker`, `checkKeyValueHistory`) watch from outside the nodes. Throws
 * `SimulationFailure` (its message starts with the seed) on any violation.
 */
export function runSimulation(seed: number, options: SimulationOptions = {}): SimulationReport {
  try {
    return new Simulation(seed, options).run();
  } catch (error) {
    if (error instanceof SimulationFailure) throw error;
    const message = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    throw new SimulationFailure(seed, message);
  }
}

class Simulation {
  private readonly random: SeededRandom;
  private readonly profile: FaultProfile;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly ids: NodeId[];
  private now = 0;
  private phase: 'safety' | 'healing' | 'done' = 'safety';
  private readonly safetyPhaseMs: number;
  private readonly healingBoundMs: number;

  // network
  private partitionGroups: Map<NodeId, number> | undefined;
  private partitionId = 0;
  private figure8: Figure8Stage | undefined;

  // clients and history
  private nextOpId = 1;
  private readonly ops = new Map<number, ClientOp>();
  private readonly clientTarget: NodeId[] = [];

  // checkers, outside the nodes
  private readonly checker = new SafetyChecker((message) => this.fail(message));
  private crashes = 0;
  private snapshotsInstalled = 0;
  private convergedAt: number | undefined;
  private events = 0;

  constructor(
    readonly seed: number,
    options: SimulationOptions,
  ) {
    this.random = new SeededRandom(seed);
    this.profile = drawFaultProfile(this.random);
    this.safetyPhaseMs = options.safetyPhaseMs ?? DEFAULT_SAFETY_PHASE_MS;
    this.healingBoundMs = options.healingBoundMs ?? DEFAULT_HEALING_BOUND_MS;
    this.ids = Array.from({ length: this.profile.nodeCount }, (_, i) => `n${i + 1}`);
    for (const id of this.ids) {
      const skew = 1 + (this.random.nextFloat() * 2 - 1) * this.profile.tickSkew;
      const storage = new MemoryStorage({ voters: this.ids });
      const disk = new SimulatedDisk(new MemoryDisk(storage, { entriesKeptAfterSnapshot: ENTRIES_KEPT_AFTER_SNAPSHOT }), () =>
        this.queue.push(this.now + this.profile.fsyncMs, { type: 'fsync', node: id, incarnation: this.nodes.get(id)!.incarnation }),
      );
      const kv = new KvStateMachine();
      const node: SimNode = {
        id,
        storage,
        disk,
        tickMs: Math.max(1, Math.round(BASE_TICK_MS * skew)),
        alive: true,
        incarnation: 0,
        loop: this.newLoop(id, storage, disk, kv),
        kv,
      };
      this.nodes.set(id, node);
      this.queue.push(this.random.nextInt(node.tickMs), { type: 'tick', node: id, incarnation: 0 });
    }
    for (let c = 0; c < CLIENT_COUNT; c++) {
      this.clientTarget.push(this.random.pick(this.ids));
      this.queue.push(this.random.nextInt(50), { type: 'client', client: c });
    }
    this.queue.push(this.nextFaultDelay(), { type: 'fault' });
    this.queue.push(LOG_MATCHING_CHECK_MS, { type: 'check-logs' });
  }

  private fail(message: string): never {
    throw new SimulationFailure(this.seed, `${message}\n  at t=${this.now}ms phase=${this.phase}\n  profile: ${describeProfile(this.profile)}`);
  }

  /** The production Ready loop over this node's simulated disk and network; a checker taps what it applies and sends. */
  private newLoop(id: NodeId, storage: MemoryStorage, disk: SimulatedDisk, kv: KvStateMachine): RaftLoop<KvCommand | undefined> {
    const checker = this.checker;
    const nodes = this.nodes;
    const stateMachine: ReplicatedStateMachine<KvCommand | undefined> = {
      apply(entry) {
        checker.durableOnQuorum(id, entry, [...nodes.values()]);
        const command = kv.apply(entry);
        checker.applied(id, entry.index, kv.hash, entry);
        return command;
      },
      restore(snapshot) {
        kv.restore(snapshot);
        checker.applied(id, snapshot.metadata.index, kv.hash, undefined);
      },
      snapshotData: () => kv.snapshotData(),
    };
    return new RaftLoop({
      node: {
        id,
        storage,
        random: this.random.fork(),
        electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
        heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
        maxEntriesPerAppend: this.profile.maxEntriesPerAppend,
        maxInflightAppends: MAX_INFLIGHT_APPENDS,
      },
      disk,
      sender: { send: (messages) => this.sendFrom(id, messages) },
      stateMachine,
      snapshotEveryEntries: this.profile.snapshotThresholdEntries,
      // The production driver sends after the write; the simulator takes the path whose safety
      // rests on the core (a leader counting itself only once durable), under crashes.
      sendAppendsBeforePersist: true,
    });
  }

  run(): SimulationReport {
    const healingStartsAt = this.safetyPhaseMs;
    const deadline = healingStartsAt + this.healingBoundMs;
    for (;;) {
      const next = this.queue.pop();
      if (!next) this.fail('the event queue ran dry');
      if (this.phase === 'safety' && next.at >= healingStartsAt) {
        this.queue.push(next.at, next.item);
        this.now = healingStartsAt;
        this.startHealing();
        continue;
      }
      if (next.at > deadline) this.fail(`no convergence within ${this.healingBoundMs}ms of healing: ${this.describeNodes()}`);
      this.now = next.at;
      if (++this.events > MAX_EVENTS) this.fail(`more than ${MAX_EVENTS} events`);
      this.handle(next.item);
      if (this.phase === 'done') break;
    }
    this.finalChecks();
    const completed = [...this.ops.values()].filter((o) => o.returnedAt !== undefined && o.returnedAt !== Infinity && !o.discarded);
    return {
      seed: this.seed,
      profile: this.profile,
      events: this.events,
      elections: this.checker.elections,
      committedIndex: this.checker.committedIndex,
      completedWrites: completed.filter((o) => o.kind === 'write').length,
      completedReads: completed.filter((o) => o.kind === 'read').length,
      crashes: this.crashes,
      snapshotsInstalled: this.snapshotsInstalled,
      convergedAfterMs: (this.convergedAt ?? this.now) - healingStartsAt,
    };
  }

  private handle(event: SimEvent): void {
    switch (event.type) {
      case 'tick': {
        const node = this.nodes.get(event.node)!;
        if (!node.alive || node.incarnation !== event.incarnation) return;
        node.loop.tick();
        this.afterInput(node);
        this.queue.push(this.now + node.tickMs, event);
        return;
      }
      case 'deliver': {
        const m = event.message;
        const node = this.nodes.get(m.to)!;
        if (!node.alive || !this.connected(m.from, m.to)) return;
        node.loop.step(m);
        this.afterInput(node);
        return;
      }
      case 'fsync': {
        const node = this.nodes.get(event.node)!;
        if (!node.alive || node.incarnation !== event.incarnation) return;
        this.completeFsync(node);
        return;
      }
      case 'client':
        this.clientStep(event.client);
        return;
      case 'op-timeout':
        this.timeoutOp(event.op);
        return;
      case 'fault':
        if (this.phase !== 'safety') return;
        this.injectFault();
        this.queue.push(this.now + this.nextFaultDelay(), event);
        return;
      case 'heal-partition':
        if (this.partitionId === event.partition) {
          this.partitionGroups = undefined;
          this.figure8 = undefined;
        }
        return;
      case 'crash': {
        const node = this.nodes.get(event.node)!;
        if (this.phase === 'safety' && node.alive && node.incarnation === event.incarnation && this.mayCrash()) this.crash(node, event.downMs);
        return;
      }
      case 'restart':
        this.restart(event.node);
        return;
      case 'check-logs':
        this.checker.logMatching([...this.nodes.values()]);
        if (this.phase !== 'done') this.queue.push(this.now + LOG_MATCHING_CHECK_MS, event);
        return;
      case 'check-convergence':
        if (this.converged()) {
          this.convergedAt = this.now;
          this.phase = 'done';
          return;
        }
        this.queue.push(this.now + CONVERGENCE_CHECK_MS, event);
        return;
      default: {
        const never: never = event;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  // ------------------------------------------------------------ node shell: inputs in, the loop does the rest

  private afterInput(node: SimNode): void {
    this.observe(node);
    if (this.figure8) this.advanceFigure8(node);
    if (node.alive) node.loop.process();
  }

  /** The disk finishes an fsync: the loop sends, applies and advances, and hands the disk its next Ready. */
  private completeFsync(node: SimNode): void {
    const written = node.disk.completeFsync();
    if (!written) return;
    if (written.snapshot) this.snapshotsInstalled++;
    this.observe(node);
    if (this.figure8) this.advanceFigure8(node);
  }

  private observe(node: SimNode): void {
    this.checker.observe({ id: node.id, raw: node.loop.raw, storage: node.storage });
  }

  private crash(node: SimNode, downMs = this.random.between(MIN_DOWN_MS, MAX_DOWN_MS)): void {
    this.crashes++;
    // The write may or may not have reached the platter before power went: draw it.
    node.disk.crash(node.disk.writing && this.random.chance(0.5));
    node.alive = false;
    node.incarnation++;
    // Its clients stop hearing from it: every write's fate is now unknown, every read void.
    node.loop.stop();
    this.queue.push(this.now + downMs, { type: 'restart', node: node.id });
  }

  private restart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.alive) return;
    node.alive = true;
    // Everything in memory is gone: a fresh loop and store, from what the disk holds.
    node.kv = new KvStateMachine();
    node.loop = this.newLoop(id, node.storage, node.disk, node.kv);
    this.queue.push(this.now + node.tickMs, { type: 'tick', node: id, incarnation: node.incarnation });
    this.afterInput(node);
  }

  // ------------------------------------------------------------ network

  private connected(a: NodeId, b: NodeId): boolean {
    const groups = this.partitionGroups;
    if (!groups) return true;
    const ga = groups.get(a)!;
    const gb = groups.get(b)!;
    // Group 2 is a bridge: it reaches both sides, which cannot reach each other.
    return ga === gb || ga === 2 || gb === 2;
  }

  /** A node's outgoing messages, tapped on the wire by the vote checker. */
  private sendFrom(id: NodeId, messages: readonly Message[]): void {
    const node = this.nodes.get(id)!;
    let voted = false;
    for (const m of messages) {
      if (m.type === 'vote-response' && !m.reject) {
        this.checker.voteGranted(m.from, m.term, m.to);
        voted = true;
      }
      this.send(m);
    }
    if (voted && this.phase === 'safety' && this.random.chance(this.profile.voteCrashProbability)) {
      // Power fails just after the vote left: it must have been durable before it was sent.
      const downMs = this.random.between(1, VOTE_CRASH_MAX_DOWN_MS);
      this.queue.push(this.now + this.random.nextInt(3), { type: 'crash', node: id, incarnation: node.incarnation, downMs });
    }
  }

  private send(m: Message): void {
    if (!this.connected(m.from, m.to)) return;
    const faulty = this.phase === 'safety';
    if (faulty && this.random.chance(this.profile.dropProbability)) return;
    const copies = faulty && this.random.chance(this.profile.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.profile.minDelayMs + (faulty ? this.random.nextInt(this.profile.delayJitterMs + 1) : 0);
      this.queue.push(this.now + delay, { type: 'deliver', message: m });
    }
  }

  // ------------------------------------------------------------ faults

  private nextFaultDelay(): number {
    return 1 + this.random.nextInt(2 * this.profile.meanFaultIntervalMs);
  }

  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      if (!node.alive) continue;
      const s = node.loop.raw.basicStatus();
      if (s.role === 'leader' && (!best || s.term > best.loop.raw.basicStatus().term)) best = node;
    }
    return best;
  }

  private injectFault(): void {
    // A Figure-8 schedule in progress owns the network until it finishes or its partition heals.
    if (this.figure8) return;
    const options: (() => void)[] = [];
    if (this.profile.figure8) options.push(() => this.startFigure8());
    if (this.profile.partitions) options.push(() => this.partition());
    if (this.profile.crashes) options.push(() => this.crashSomeone());
    if (this.profile.leaderTransfers) options.push(() => this.transferLeadership());
    if (options.length === 0) return;
    this.random.pick(options)();
  }

  private partition(): void {
    const groups = new Map<NodeId, number>();
    const kind = this.random.pick(['halves', 'isolate-leader', 'bridge'] as const);
    const shuffled = this.shuffle(this.ids);
    if (kind === 'isolate-leader') {
      const leader = this.currentLeader()?.id ?? shuffled[0];
      for (const id of this.ids) groups.set(id, id === leader ? 1 : 0);
    } else if (kind === 'halves') {
      const cut = 1 + this.random.nextInt(this.ids.length - 1);
      shuffled.forEach((id, i) => groups.set(id, i < cut ? 0 : 1));
    } else {
      const half = Math.floor(this.ids.length / 2);
      shuffled.forEach((id, i) => groups.set(id, i === 0 ? 2 : i <= half ? 0 : 1));
    }
    this.setPartition(groups);
  }

  private setPartition(groups: Map<NodeId, number>): void {
    this.partitionGroups = groups;
    const id = ++this.partitionId;
    this.queue.push(this.now + this.random.between(MIN_PARTITION_MS, MAX_PARTITION_MS), { type: 'heal-partition', partition: id });
  }

  /** Cuts `side` off from everyone else. */
  private isolate(side: ReadonlySet<NodeId>): void {
    this.setPartition(new Map(this.ids.map((id) => [id, side.has(id) ? 1 : 0])));
  }

  /** Stage 1: the leader and at most a minority of followers lose the majority; clients keep writing to it. */
  private startFigure8(): void {
    const leader = this.currentLeader();
    if (!leader) return;
    const others = this.shuffle(this.ids.filter((id) => id !== leader.id));
    const extra = this.random.nextInt(Math.floor((this.ids.length - 1) / 2));
    const minority = new Set([leader.id, ...others.slice(0, extra)]);
    this.isolate(minority);
    this.figure8 = { stage: 'await-other-side-leader', minority, term: leader.loop.raw.basicStatus().term };
  }

  /** Reacts to the node that just took input; the reactions are immediate, as an adversary's would be. */
  private advanceFigure8(node: SimNode): void {
    const f = this.figure8!;
    if (this.phase !== 'safety' || !node.alive) return;
    const s = node.loop.raw.basicStatus();
    switch (f.stage) {
      case 'await-other-side-leader':
        // Stage 2: the majority elects; its leader is cut off alone before its entries spread.
        if (s.role !== 'leader' || s.term <= f.term || f.minority.has(node.id)) return;
        this.isolate(new Set([node.id]));
        this.figure8 = { stage: 'await-minority-side-leader', minority: f.minority, term: s.term };
        return;
      case 'await-minority-side-leader':
        // Stage 3: everyone else elects again, most likely a node holding the minority's entries.
        if (s.role !== 'leader' || s.term <= f.term) return;
        this.figure8 = { stage: 'await-commit', minority: f.minority, leader: node.id, term: s.term, commit: s.commit };
        return;
      case 'await-commit':
        // Stage 4: the moment that leader's commit index moves, it and the old minority are cut off.
        if (node.id !== f.leader) return;
        if (s.role !== 'leader' || s.term !== f.term) {
          this.figure8 = undefined;
          return;
        }
        if (s.commit <= f.commit) return;
        this.isolate(new Set([...f.minority, node.id]));
        this.figure8 = undefined;
        return;
      default:
        assertNever(f);
    }
  }

  /** Keep a majority alive: liveness is what the healing phase checks, not the safety phase. */
  private mayCrash(): boolean {
    const down = this.ids.filter((id) => !this.nodes.get(id)!.alive).length;
    return down < Math.floor((this.ids.length - 1) / 2);
  }

  private crashSomeone(): void {
    if (!this.mayCrash()) return;
    const leader = this.currentLeader();
    const victim = leader && this.random.chance(0.5) ? leader : this.nodes.get(this.random.pick(this.ids))!;
    if (victim.alive) this.crash(victim);
  }

  private transferLeadership(): void {
    const leader = this.currentLeader();
    if (!leader) return;
    const target = this.random.pick(this.ids.filter((id) => id !== leader.id));
    leader.loop.raw.transferLeader(target);
    this.afterInput(leader);
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.random.nextInt(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  // ------------------------------------------------------------ clients

  private clientStep(client: number): void {
    if (this.phase !== 'safety') return;
    // Mostly the node believed to lead, sometimes any node: stale leaders must get traffic too.
    const target = this.random.chance(0.7) ? this.clientTarget[client] : this.random.pick(this.ids);
    const node = this.nodes.get(target)!;
    const retry = () => {
      this.clientTarget[client] = this.random.pick(this.ids);
      this.queue.push(this.now + CLIENT_THINK_MS, { type: 'client', client });
    };
    if (!node.alive) return retry();
    const key = this.random.pick(KEYS);
    const id = this.nextOpId++;
    if (this.random.chance(0.55)) {
      const value = `c${client}-${id}`;
      const op: ClientOp = { id, client, kind: 'write', key, value, invokedAt: this.now, returnedAt: undefined, discarded: false };
      const result = node.loop.propose(JSON.stringify({ op: id, key, value }), (outcome) => this.writeSettled(op, outcome));
      if (!result.ok) {
        if (result.lead && this.random.chance(0.8)) {
          this.clientTarget[client] = result.lead;
          this.queue.push(this.now + 1, { type: 'client', client });
          return;
        }
        return retry();
      }
      this.ops.set(id, op);
    } else {
      const op: ClientOp = { id, client, kind: 'read', key, value: null, invokedAt: this.now, returnedAt: undefined, discarded: false };
      const result = node.loop.readIndex((outcome) => this.readSettled(node, op, outcome));
      if (!result.ok) return retry();
      this.ops.set(id, op);
    }
    this.queue.push(this.now + OP_TIMEOUT_MS, { type: 'op-timeout', op: id });
    this.afterInput(node);
  }

  private writeSettled(op: ClientOp, outcome: ProposalOutcome<KvCommand | undefined>): void {
    switch (outcome.status) {
      case 'applied':
        return this.completeOp(op);
      case 'superseded':
        // The node says it never applies anywhere: the history holds it to that.
        return this.abandonOp(op, 'never-applied');
      case 'unknown':
      case 'stopped':
        return this.abandonOp(op);
      default:
        assertNever(outcome);
    }
  }

  private readSettled(node: SimNode, op: ClientOp, outcome: ReadOutcome): void {
    if (outcome.status === 'stopped') return this.abandonOp(op);
    if (op.returnedAt !== undefined) return;
    op.value = node.kv.get(op.key);
    this.completeOp(op);
  }

  private completeOp(op: ClientOp): void {
    if (op.returnedAt !== undefined) return;
    op.returnedAt = this.now;
    this.queue.push(this.now + CLIENT_THINK_MS, { type: 'client', client: op.client });
  }

  /**
   * The client stops waiting: a write's fate is now unknown (unless the node said it never
   * applies), a read simply never happened.
   */
  private abandonOp(op: ClientOp, fate: 'unknown' | 'never-applied' = 'unknown'): void {
    if (op.returnedAt !== undefined) return;
    op.returnedAt = Infinity;
    if (op.kind === 'read' || fate === 'never-applied') op.discarded = true;
    this.clientTarget[op.client] = this.random.pick(this.ids);
    this.queue.push(this.now + CLIENT_THINK_MS, { type: 'client', client: op.client });
  }

  private timeoutOp(id: number): void {
    // A settlement that comes later finds the op returned already and changes nothing.
    this.abandonOp(this.ops.get(id)!);
  }

  // ------------------------------------------------------------ healing and convergence

  private startHealing(): void {
    this.phase = 'healing';
    this.partitionGroups = undefined;
    for (const node of this.nodes.values()) if (!node.alive) this.restart(node.id);
    this.queue.push(this.now + CONVERGENCE_CHECK_MS, { type: 'check-convergence' });
  }

  private converged(): boolean {
    const leader = this.currentLeader();
    if (!leader) return false;
    const ls = leader.loop.raw.basicStatus();
    if (ls.commit !== ls.lastIndex || leader.loop.raw.termAt(ls.commit) !== ls.term) return false;
    for (const node of this.nodes.values()) {
      if (!node.alive || node.kv.appliedIndex !== ls.commit) return false;
      const s = node.loop.raw.basicStatus();
      if (s.lead !== leader.id || s.term !== ls.term) return false;
    }
    return true;
  }

  private describeNodes(): string {
    return [...this.nodes.values()]
      .map((n) => {
        const s = n.loop.raw.basicStatus();
        return `${n.id}{alive=${n.alive} role=${s.role} term=${s.term} lead=${s.lead} commit=${s.commit} last=${s.lastIndex} lastTerm=${n.loop.raw.termAt(s.lastIndex)} applied=${n.kv.appliedIndex} pending=${n.disk.writing}}`;
      })
      .join(' ');
  }

  // ------------------------------------------------------------ final checks (outside the nodes)

  private finalChecks(): void {
    const nodes = [...this.nodes.values()];
    this.checker.logMatching(nodes);
    this.checker.replicasAgree(nodes.map((n) => ({ id: n.id, appliedIndex: n.kv.appliedIndex, hash: n.kv.hash })));
    const violation = checkKeyValueHistory([...this.ops.values()], KEYS);
    if (violation) this.fail(violation);
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
