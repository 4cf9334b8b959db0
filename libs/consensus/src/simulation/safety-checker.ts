import { entriesEqual, type Entry, type NodeId } from '../lib/raft.types';
import type { RawNode } from '../lib/raw-node';
import type { RaftStorage } from '../lib/storage.port';

/** What the checker may look at on a node: its status and log as anyone outside could read them. */
export interface ObservedNode {
  readonly id: NodeId;
  readonly raw: Pick<RawNode, 'basicStatus' | 'termAt' | 'status'>;
  /** What the node has made durable. */
  readonly storage: RaftStorage;
}

/** A replica's state machine as it stands: the index it applied up to and a hash of its state. */
export interface ReplicaState {
  readonly id: NodeId;
  readonly appliedIndex: number;
  readonly hash: number;
}

/**
 * Raft's safety properties (Raft §5.2–5.4), checked from outside the nodes: the simulator shows it
 * what nodes say, send, apply and persist, and it remembers what it has seen. Each violation goes
 * to `fail`, which must throw (the simulator adds the seed and the moment).
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Index -> the entry first applied there and the state machine's hash right after it. */
  private readonly committed: { entry: Entry; hash: number }[] = [];
  /** `voter@term` -> the candidate it granted its vote to: one per term, crashes or not. */
  private readonly votesGranted = new Map<string, NodeId>();
  private electionsSeen = 0;

  constructor(private readonly fail: (message: string) => never) {}

  /** Leaders seen, one per term. */
  get elections(): number {
    return this.electionsSeen;
  }

  /** The highest index any replica has applied. */
  get committedIndex(): number {
    return this.committed.length - 1;
  }

  /**
   * Election safety (at most one leader per term) and leader completeness (a new leader holds
   * every entry committed in earlier terms). Call it whenever a node may have become leader.
   */
  observe(node: ObservedNode): void {
    const s = node.raw.basicStatus();
    if (s.role !== 'leader') return;
    const known = this.leaderOfTerm.get(s.term);
    if (known === node.id) return;
    if (known !== undefined) this.fail(`two leaders in term ${s.term}: ${known} and ${node.id}`);
    this.leaderOfTerm.set(s.term, node.id);
    this.electionsSeen++;
    for (let i = Math.max(1, node.storage.firstIndex()); i < this.committed.length; i++) {
      const c = this.committed[i];
      if (!c || c.entry.term > s.term) continue;
      const term = node.raw.termAt(i);
      if (term === undefined && i < node.raw.status().firstIndex) continue;
      if (term !== c.entry.term) this.fail(`leader ${node.id} of term ${s.term} lacks committed entry ${i} (term ${c.entry.term}), has term ${term}`);
    }
  }

  /** Election safety at its root: a node grants at most one vote per term, across crashes. Call it for every vote grant on the wire. */
  voteGranted(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}@${term}`;
    const known = this.votesGranted.get(key);
    if (known === undefined) this.votesGranted.set(key, candidate);
    else if (known !== candidate) this.fail(`${voter} voted for both ${known} and ${candidate} in term ${term}`);
  }

  /**
   * State machine safety: committed entries are never lost or changed, so every replica applies
   * the same entry at each index and reaches the same state. `entry` is undefined when the
   * replica jumped to `index` by installing a snapshot.
   */
  applied(node: NodeId, index: number, hash: number, entry: Entry | undefined): void {
    const known = this.committed[index];
    if (!known) {
      if (entry) this.committed[index] = { entry, hash };
      return;
    }
    if (entry && !entriesEqual(known.entry, entry)) {
      this.fail(`committed entry ${index} changed: ${JSON.stringify(known.entry)} then ${JSON.stringify(entry)} on ${node}`);
    }
    if (known.hash !== hash) this.fail(`state after applying ${index} differs on ${node}`);
  }

  /**
   * Commitment is durable: an entry applies (anywhere) only once a majority of the voters hold it
   * on disk, or have compacted past it into a snapshot. A leader that counted its own copy before
   * its fsync, and then crashed, would break this. `nodes` are all the voters.
   */
  durableOnQuorum(node: NodeId, entry: Entry, nodes: readonly { readonly id: NodeId; readonly storage: RaftStorage }[]): void {
    let holders = 0;
    for (const n of nodes) {
      const s = n.storage;
      if (entry.index < s.firstIndex()) holders++;
      else if (entry.index <= s.lastIndex() && s.term(entry.index) === entry.term) holders++;
    }
    if (holders <= nodes.length / 2) {
      this.fail(`${node} applied entry ${entry.index} (term ${entry.term}) held durably by only ${holders} of ${nodes.length} nodes`);
    }
  }

  /** Log matching (§5.3) over what each node has made durable: terms never decrease along a log, and two logs that agree on an entry's term agree on everything up to it. */
  logMatching(nodes: readonly { readonly id: NodeId; readonly storage: RaftStorage }[]): void {
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

  /** After healing: every replica has applied the same entries and holds the same state. */
  replicasAgree(replicas: readonly ReplicaState[]): void {
    const states = new Set(replicas.map((r) => `${r.appliedIndex}:${r.hash}`));
    if (states.size !== 1) this.fail(`replicas differ after healing: ${replicas.map((r) => `${r.id}=${r.appliedIndex}:${r.hash}`).join(' ')}`);
  }
}
