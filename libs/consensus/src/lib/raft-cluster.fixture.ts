import { MemoryStorage } from './memory-storage';
import { SeededRandom } from './random-source';
import type { RaftConfig } from './raft';
import type { Entry, Message, NodeId, ReadState, Ready } from './raft.types';
import { RawNode } from './raw-node';

/** A synchronous in-process cluster for transcript tests: messages move only when told to. */
export interface FixtureNode {
  raw: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
}

const MAX_STABILIZE_ROUNDS = 1000;

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'pre-vote':
    case 'vote':
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'pre-vote-response':
    case 'vote-response':
      return `${head}${m.reject ? ' reject' : ''}`;
    case 'append':
      return `${head} prev=${m.prevLogIndex}/${m.prevLogTerm} n=${m.entries.length} commit=${m.commit}`;
    case 'append-response':
      return `${head} ${m.reject ? `reject ${m.index} hint=${m.rejectHint}` : `index=${m.index}`}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'heartbeat-response':
      return `${head}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'snapshot':
      return `${head} index=${m.snapshot.metadata.index}`;
    case 'timeout-now':
      return head;
    case 'read-index':
      return `${head} ctx=${m.context}`;
    case 'read-index-response':
      return `${head} index=${m.index} ctx=${m.context}${m.reject ? ' reject' : ''}`;
  }
}

export class RaftClusterFixture {
  readonly nodes = new Map<NodeId, FixtureNode>();
  readonly trace: string[] = [];
  private queue: Message[] = [];
  private readonly cut = new Set<NodeId>();
  private readonly dropped = new Set<string>();
  /** Readies whose disk write a test holds back: their early messages are out, the rest waits. */
  private readonly writing = new Map<NodeId, Ready>();
  /** Messages matching this are lost in transit until `heal()`. */
  dropIf: ((m: Message) => boolean) | undefined;

  constructor(
    readonly ids: readonly NodeId[],
    private readonly options: Partial<Omit<RaftConfig, 'id' | 'storage' | 'random'>> = {},
    seed = 1,
  ) {
    const random = new SeededRandom(seed);
    for (const id of ids) this.add(id, new MemoryStorage({ voters: ids }), random.fork());
  }

  add(id: NodeId, storage: MemoryStorage, random = new SeededRandom(id.length)): FixtureNode {
    const node: FixtureNode = {
      raw: new RawNode({ id, storage, random, ...this.options }),
      storage,
      applied: [],
      readStates: [],
    };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): FixtureNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Restarts a node from what its storage holds, as after a crash. */
  restart(id: NodeId, seed = 7): void {
    const old = this.node(id);
    this.writing.delete(id);
    this.queue = this.queue.filter((m) => m.to !== id);
    this.nodes.set(id, {
      raw: new RawNode({ id, storage: old.storage, random: new SeededRandom(seed), ...this.options }),
      storage: old.storage,
      applied: [],
      readStates: [],
    });
  }

  isolate(id: NodeId): void {
    this.cut.add(id);
  }

  heal(): void {
    this.cut.clear();
    this.dropped.clear();
    this.dropIf = undefined;
  }

  /** Takes the queued messages so a test can deliver them in the order it chooses. */
  takeQueue(): Message[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }

  /** Drops every message from `from` to `to` until `heal()`. */
  drop(from: NodeId, to: NodeId): void {
    this.dropped.add(`${from}->${to}`);
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).raw.tick();
  }

  /** Persists, collects and applies every pending Ready, without delivering messages. */
  flushReady(): boolean {
    let any = false;
    for (const [, node] of this.nodes) {
      while (node.raw.hasReady()) {
        any = true;
        const rd = node.raw.ready();
        this.queue.push(...rd.messagesBeforePersist);
        this.finishReady(node, rd);
      }
    }
    return any;
  }

  /**
   * Takes `id`'s next Ready and sends what may leave before the disk write, but holds the write
   * (and so everything after it) until `finishPersist(id)`; a `restart(id)` meanwhile loses it, as
   * a crash before the fsync would. Other nodes keep running; `id` keeps receiving.
   */
  startPersist(id: NodeId): Ready {
    const node = this.node(id);
    if (this.writing.has(id)) throw new Error(`${id} is already writing a Ready`);
    if (!node.raw.hasReady()) throw new Error(`${id} has no Ready`);
    const rd = node.raw.ready();
    this.writing.set(id, rd);
    this.queue.push(...rd.messagesBeforePersist);
    return rd;
  }

  /** The held write of `id` reaches the disk: the rest of its Ready happens. */
  finishPersist(id: NodeId): void {
    const rd = this.writing.get(id);
    if (!rd) throw new Error(`${id} has no Ready being written`);
    this.writing.delete(id);
    this.finishReady(this.node(id), rd);
  }

  private finishReady(node: FixtureNode, rd: Ready): void {
    if (rd.snapshot) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    if (rd.hardState) node.storage.setHardState(rd.hardState);
    this.queue.push(...rd.messages);
    node.applied.push(...rd.committedEntries);
    node.readStates.push(...rd.readStates);
    node.raw.advance();
  }

  /** Delivers queued messages (and the ones they cause) until the cluster is quiet. */
  stabilize(): void {
    for (let round = 0; round < MAX_STABILIZE_ROUNDS; round++) {
      this.flushReady();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error('cluster did not stabilize');
  }

  deliver(m: Message): void {
    if (this.cut.has(m.from) || this.cut.has(m.to) || this.dropped.has(`${m.from}->${m.to}`) || this.dropIf?.(m)) {
      this.trace.push(`DROP ${describeMessage(m)}`);
      return;
    }
    const target = this.nodes.get(m.to);
    if (!target) return;
    this.trace.push(describeMessage(m));
    target.raw.step(m);
  }

  /** Campaigns `id` and stabilizes; returns the trace lines of this step. */
  elect(id: NodeId): string[] {
    const mark = this.trace.length;
    this.node(id).raw.campaign();
    this.stabilize();
    return this.trace.slice(mark);
  }

  /** Ticks the given nodes (with delivery in between) until one of them leads. */
  tickUntilLeader(ids: readonly NodeId[], maxTicks: number): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      for (const id of ids) this.tick(id);
      this.stabilize();
      const lead = ids.find((id) => this.node(id).raw.status().role === 'leader');
      if (lead) return lead;
    }
    throw new Error(`no leader among ${ids.join(',')} after ${maxTicks} ticks`);
  }

  leader(): NodeId | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.raw.status().role === 'leader');
    return leaders.length === 1 ? leaders[0].raw.id : undefined;
  }

  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e): e is Extract<Entry, { kind: 'normal' }> => e.kind === 'normal' && e.data !== '')
      .map((e) => e.data);
  }
}
