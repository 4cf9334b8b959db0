import { MemoryStorage } from '../lib/memory-storage';
import { SeededRandom } from '../lib/random-source';
import { entriesEqual, type Entry, type Message, type NodeId, type Ready } from '../lib/raft.types';
import { RawNode } from '../lib/raw-node';
import { EventQueue } from './event-queue';
import { BASE_TICK_MS, describeProfile, drawFaultProfile, type FaultProfile } from './fault-profile';
import { KvStateMachine } from './kv-state-machine';
import { checkRegisterHistory, type RegisterOperation } from './linearizability-checker';

export const DEFAULT_SAFETY_PHASE_MS = 5_000;
export const DEFAULT_HEALING_BOUND_MS = 5_000;
const ELECTION_TIMEOUT_TICKS = 10;
const HEARTBEAT_INTERVAL_TICKS = 2;
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

interface SimNode {
  readonly id: NodeId;
  /** What survived the last fsync: the only state a crash keeps. */
  readonly storage: MemoryStorage;
  readonly tickMs: number;
  alive: boolean;
  incarnation: number;
  raw: RawNode;
  kv: KvStateMachine;
  /** A Ready written but not yet fsync'd: lost (or not) on a crash, and its messages unsent. */
  pending: Ready | undefined;
  readonly writes: Map<number, ClientOp>;
  readonly reads: Map<string, { op: ClientOp; index: number | undefined }>;
}

interface ClientOp {
  readonly id: number;
  readonly client: number;
  readonly kind: 'write' | 'read';
  readonly key: string;
  value: string | null;
  readonly invokedAt: number;
  returnedAt: number | undefined;
  discarded: boolean;
  node: NodeId;
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
 * schedule all drawn from `seed`. Checkers watch from outside the nodes. Throws
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

  // checkers' memory
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly committed: { term: number; entry: Entry; hash: number }[] = [];
  /** `voter@term` -> the candidate it granted its vote to: one per term, crashes or not. */
  private readonly votesGranted = new Map<string, NodeId>();
  private elections = 0;
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
      const node: SimNode = {
        id,
        storage,
        tickMs: Math.max(1, Math.round(BASE_TICK_MS * skew)),
        alive: true,
        incarnation: 0,
        raw: this.newRawNode(id, storage),
        kv: new KvStateMachine(),
        pending: undefined,
        writes: new Map(),
        reads: new Map(),
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

  private newRawNode(id: NodeId, storage: MemoryStorage): RawNode {
    return new RawNode({
      id,
      storage,
      random: this.random.fork(),
      electionTimeoutTicks: ELECTION_TIMEOUT_TICKS,
      heartbeatIntervalTicks: HEARTBEAT_INTERVAL_TICKS,
      maxEntriesPerAppend: this.profile.maxEntriesPerAppend,
      maxInflightAppends: 8,
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
      elections: this.elections,
      committedIndex: this.committed.length - 1,
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
        node.raw.tick();
        this.afterInput(node);
        this.queue.push(this.now + node.tickMs, event);
        return;
      }
      case 'deliver': {
        const m = event.message;
        const node = this.nodes.get(m.to)!;
        if (!node.alive || !this.connected(m.from, m.to)) return;
        node.raw.step(m);
        this.afterInput(node);
        return;
      }
      case 'fsync':
        this.completeFsync(event.node, event.incarnation);
        return;
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
        this.checkLogMatching();
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

  // ------------------------------------------------------------ node shell: persist, send, apply

  private afterInput(node: SimNode): void {
    this.observe(node);
    if (this.figure8) this.advanceFigure8(node);
    this.pump(node);
  }

  private pump(node: SimNode): void {
    if (!node.alive || node.pending || !node.raw.hasReady()) return;
    node.pending = node.raw.ready();
    this.queue.push(this.now + this.profile.fsyncMs, { type: 'fsync', node: node.id, incarnation: node.incarnation });
  }

  private persist(node: SimNode, rd: Ready): void {
    if (rd.snapshot) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    if (rd.hardState) node.storage.setHardState(rd.hardState);
  }

  private completeFsync(id: NodeId, incarnation: number): void {
    const node = this.nodes.get(id)!;
    if (!node.alive || node.incarnation !== incarnation || !node.pending) return;
    const rd = node.pending;
    this.persist(node, rd);
    let voted = false;
    for (const m of rd.messages) {
      if (m.type === 'vote-response' && !m.reject) {
        this.checkVote(m.from, m.term, m.to);
        voted = true;
      }
      this.send(m);
    }
    if (voted && this.phase === 'safety' && this.random.chance(this.profile.voteCrashProbability)) {
      // Power fails just after the vote left: it must have been durable before it was sent.
      const downMs = this.random.between(1, VOTE_CRASH_MAX_DOWN_MS);
      this.queue.push(this.now + this.random.nextInt(3), { type: 'crash', node: node.id, incarnation: node.incarnation, downMs });
    }
    if (rd.snapshot) {
      node.kv = KvStateMachine.fromSnapshot(rd.snapshot.metadata.index, rd.snapshot.data);
      this.snapshotsInstalled++;
      this.checkApplied(node, rd.snapshot.metadata.index, node.kv.hash, undefined);
    }
    for (const entry of rd.committedEntries) {
      if (entry.index <= node.kv.appliedIndex) continue;
      const command = node.kv.apply(entry);
      this.checkApplied(node, entry.index, node.kv.hash, entry);
      if (command) {
        const op = node.writes.get(command.op);
        if (op) {
          node.writes.delete(command.op);
          this.completeOp(op);
        }
      }
    }
    for (const rs of rd.readStates) {
      const read = node.reads.get(rs.context);
      if (read && read.index === undefined) read.index = rs.index;
    }
    node.raw.advance();
    node.pending = undefined;
    this.serveReads(node);
    this.maybeCompact(node);
    this.observe(node);
    if (this.figure8) this.advanceFigure8(node);
    this.pump(node);
  }

  private maybeCompact(node: SimNode): void {
    const applied = node.kv.appliedIndex;
    if (applied - node.storage.firstIndex() < this.profile.snapshotThresholdEntries) return;
    // A snapshot from the leader is on its way to the disk: the core no longer knows the
    // configuration at `applied`, and that snapshot replaces whatever we would take here.
    if (applied < node.raw.status().firstIndex - 1) return;
    node.storage.createSnapshot(applied, node.raw.confStateAt(applied), node.kv.serialize());
    node.storage.compact(Math.max(node.storage.firstIndex() - 1, applied - ENTRIES_KEPT_AFTER_SNAPSHOT));
  }

  private crash(node: SimNode, downMs = this.random.between(MIN_DOWN_MS, MAX_DOWN_MS)): void {
    this.crashes++;
    // The write may or may not have reached the platter before power went: draw it.
    if (node.pending && this.random.chance(0.5)) this.persist(node, node.pending);
    node.pending = undefined;
    node.alive = false;
    node.incarnation++;
    for (const op of node.writes.values()) this.abandonOp(op);
    for (const { op } of node.reads.values()) this.abandonOp(op);
    node.writes.clear();
    node.reads.clear();
    this.queue.push(this.now + downMs, { type: 'restart', node: node.id });
  }

  private restart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.alive) return;
    node.alive = true;
    node.raw = this.newRawNode(id, node.storage);
    const snap = node.storage.snapshot();
    node.kv = KvStateMachine.fromSnapshot(snap.metadata.index, snap.data);
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
      const s = node.raw.basicStatus();
      if (s.role === 'leader' && (!best || s.term > best.raw.basicStatus().term)) best = node;
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
    this.figure8 = { stage: 'await-other-side-leader', minority, term: leader.raw.basicStatus().term };
  }

  /** Reacts to the node that just took input; the reactions are immediate, as an adversary's would be. */
  private advanceFigure8(node: SimNode): void {
    const f = this.figure8!;
    if (this.phase !== 'safety' || !node.alive) return;
    const s = node.raw.basicStatus();
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
    leader.raw.transferLeader(target);
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
      const result = node.raw.propose(JSON.stringify({ op: id, key, value }));
      if (!result.ok) {
        if (result.lead && this.random.chance(0.8)) {
          this.clientTarget[client] = result.lead;
          this.queue.push(this.now + 1, { type: 'client', client });
          return;
        }
        return retry();
      }
      const op: ClientOp = { id, client, kind: 'write', key, value, invokedAt: this.now, returnedAt: undefined, discarded: false, node: node.id };
      this.ops.set(id, op);
      node.writes.set(id, op);
    } else {
      const context = `r${id}`;
      const result = node.raw.readIndex(context);
      if (!result.ok) return retry();
      const op: ClientOp = { id, client, kind: 'read', key, value: null, invokedAt: this.now, returnedAt: undefined, discarded: false, node: node.id };
      this.ops.set(id, op);
      node.reads.set(context, { op, index: undefined });
    }
    this.queue.push(this.now + OP_TIMEOUT_MS, { type: 'op-timeout', op: id });
    this.afterInput(node);
  }

  private serveReads(node: SimNode): void {
    for (const [context, read] of node.reads) {
      if (read.index === undefined || read.index > node.kv.appliedIndex) continue;
      node.reads.delete(context);
      read.op.value = node.kv.get(read.op.key);
      this.completeOp(read.op);
    }
  }

  private completeOp(op: ClientOp): void {
    if (op.returnedAt !== undefined) return;
    op.returnedAt = this.now;
    this.queue.push(this.now + CLIENT_THINK_MS, { type: 'client', client: op.client });
  }

  /** The client stops waiting: a write's fate is now unknown, a read simply never happened. */
  private abandonOp(op: ClientOp): void {
    if (op.returnedAt !== undefined) return;
    if (op.kind === 'write') op.returnedAt = Infinity;
    else {
      op.discarded = true;
      op.returnedAt = Infinity;
    }
    this.clientTarget[op.client] = this.random.pick(this.ids);
    this.queue.push(this.now + CLIENT_THINK_MS, { type: 'client', client: op.client });
  }

  private timeoutOp(id: number): void {
    const op = this.ops.get(id)!;
    if (op.returnedAt !== undefined) return;
    const node = this.nodes.get(op.node)!;
    node.writes.delete(id);
    node.reads.delete(`r${id}`);
    this.abandonOp(op);
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
    const ls = leader.raw.basicStatus();
    if (ls.commit !== ls.lastIndex || leader.raw.termAt(ls.commit) !== ls.term) return false;
    for (const node of this.nodes.values()) {
      if (!node.alive || node.kv.appliedIndex !== ls.commit) return false;
      const s = node.raw.basicStatus();
      if (s.lead !== leader.id || s.term !== ls.term) return false;
    }
    return true;
  }

  private describeNodes(): string {
    return [...this.nodes.values()]
      .map((n) => {
        const s = n.raw.basicStatus();
        return `${n.id}{alive=${n.alive} role=${s.role} term=${s.term} lead=${s.lead} commit=${s.commit} last=${s.lastIndex} lastTerm=${n.raw.termAt(s.lastIndex)} applied=${n.kv.appliedIndex} pending=${n.pending !== undefined}}`;
      })
      .join(' ');
  }

  // ------------------------------------------------------------ checkers (outside the nodes)

  private observe(node: SimNode): void {
    const s = node.raw.basicStatus();
    if (s.role !== 'leader') return;
    const known = this.leaderOfTerm.get(s.term);
    if (known === node.id) return;
    if (known !== undefined) this.fail(`two leaders in term ${s.term}: ${known} and ${node.id}`);
    this.leaderOfTerm.set(s.term, node.id);
    this.elections++;
    // Leader completeness: every entry committed in an earlier term is in the new leader's log.
    for (let i = Math.max(1, s.lastIndex >= 0 ? node.storage.firstIndex() : 1); i < this.committed.length; i++) {
      const c = this.committed[i];
      if (!c || c.term > s.term) continue;
      const term = node.raw.termAt(i);
      if (term === undefined && i < node.raw.status().firstIndex) continue;
      if (term !== c.term) this.fail(`leader ${node.id} of term ${s.term} lacks committed entry ${i} (term ${c.term}), has term ${term}`);
    }
  }

  /** Election safety at its root: a node grants at most one vote per term, across crashes. */
  private checkVote(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}@${term}`;
    const known = this.votesGranted.get(key);
    if (known === undefined) this.votesGranted.set(key, candidate);
    else if (known !== candidate) this.fail(`${voter} voted for both ${known} and ${candidate} in term ${term}`);
  }

  /** Every replica applies the same entry at each index and reaches the same state. */
  private checkApplied(node: SimNode, index: number, hash: number, entry: Entry | undefined): void {
    const known = this.committed[index];
    if (!known) {
      if (entry) this.committed[index] = { term: entry.term, entry, hash };
      return;
    }
    if (entry && !entriesEqual(known.entry, entry)) {
      this.fail(`committed entry ${index} changed: ${JSON.stringify(known.entry)} then ${JSON.stringify(entry)} on ${node.id}`);
    }
    if (known.hash !== hash) this.fail(`state after applying ${index} differs on ${node.id}`);
  }

  /** Log matching (§5.3) over what each node has made durable. */
  private checkLogMatching(): void {
    const nodes = [...this.nodes.values()];
    for (const n of nodes) {
      const s = n.storage;
      let prev = s.term(s.firstIndex() - 1);
      for (let i = s.firstIndex(); i <= s.lastIndex(); i++) {
        const t = s.term(i);
        if (t < prev) this.fail(`terms decrease along ${n.id}'s log at ${i}`);
        prev = t;
      }
    }
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) {
        const x = nodes[a].storage;
        const y = nodes[b].storage;
        const lo = Math.max(x.firstIndex(), y.firstIndex());
        const hi = Math.min(x.lastIndex(), y.lastIndex());
        let matched = false;
        for (let i = hi; i >= lo; i--) {
          const ex = x.entries(i, i + 1, 1)[0];
          const ey = y.entries(i, i + 1, 1)[0];
          if (matched || ex.term === ey.term) {
            matched = true;
            if (!entriesEqual(ex, ey)) this.fail(`log matching broken between ${nodes[a].id} and ${nodes[b].id} at ${i}`);
          }
        }
      }
    }
  }

  private finalChecks(): void {
    this.checkLogMatching();
    const hashes = new Set([...this.nodes.values()].map((n) => `${n.kv.appliedIndex}:${n.kv.hash}`));
    if (hashes.size !== 1) this.fail(`replicas differ after healing: ${[...hashes].join(' ')}`);
    for (const key of KEYS) {
      const history: RegisterOperation[] = [...this.ops.values()]
        .filter((o) => o.key === key && !o.discarded && (o.returnedAt !== undefined || o.kind === 'write'))
        .map((o) => ({ id: o.id, kind: o.kind, value: o.value, invokedAt: o.invokedAt, returnedAt: o.returnedAt ?? Infinity }));
      if (history.length === 0) continue;
      const result = checkRegisterHistory(history);
      if (!result.ok) {
        const lines = history.map((o) => `  #${o.id} ${o.kind} ${o.value} [${o.invokedAt}, ${o.returnedAt}]`).join('\n');
        this.fail(`history of key ${key} is not linearizable (longest linearizable prefix: ${result.longestPrefix.join(',')})\n${lines}`);
      }
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
