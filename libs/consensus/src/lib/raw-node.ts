import { invariant } from './invariant';
import { Raft, type ProposeResult, type RaftConfig, type RaftStatus, type ReadIndexResult } from './raft';
import { hardStateEquals, type ConfChange, type ConfState, type HardState, type Message, type NodeId, type Ready, type SoftState } from './raft.types';

/**
 * The caller's handle on the core (etcd-io/raft `rawnode.go`). Inputs: `tick`, `step`, `propose`,
 * `proposeConfChange`, `readIndex`, `transferLeader`. Output: `ready()`, whose work the caller
 * does in order (send what may go before the disk write, persist, send the rest, apply) before
 * calling `advance()`, which is also how the core learns that the Ready's entries are durable.
 * Inputs may keep arriving between `ready()` and `advance()`; a second `ready()` may not.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevHardState = this.hardState();
    this.prevSoftState = this.softState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  propose(data: string): ProposeResult {
    return this.raft.propose(data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(change);
  }

  /** Asks for a linearizable read; a `ReadState` with this context arrives in a later Ready. */
  readIndex(context: string): ReadIndexResult {
    return this.raft.readIndex(context);
  }

  transferLeader(to: NodeId): boolean {
    return this.raft.transferLeader(to);
  }

  campaign(): void {
    this.raft.campaignNow();
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  /** A cheap subset of `status()` for callers that poll it after every input. */
  basicStatus(): { term: number; role: RaftStatus['role']; lead: NodeId; commit: number; lastIndex: number; applied: number } {
    const r = this.raft;
    return { term: r.term, role: r.role, lead: r.lead, commit: r.log.committed, lastIndex: r.log.lastIndex(), applied: r.log.applied };
  }

  /** The term of the entry at `index` in this node's log (stable or not), if it holds one. */
  termAt(index: number): number | undefined {
    return this.raft.log.term(index);
  }

  confState(): ConfState {
    return this.raft.confState();
  }

  /** The configuration at an applied index: what a snapshot taken there must record. */
  confStateAt(index: number): ConfState {
    return this.raft.confStateAt(index);
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    return (
      r.hasAppendsToFlush() ||
      r.msgs.length > 0 ||
      r.msgsBeforePersist.length > 0 ||
      r.readStates.length > 0 ||
      r.log.unstable.entries.length > 0 ||
      r.log.unstable.snapshot !== undefined ||
      r.log.hasNextCommittedEntries() ||
      !hardStateEquals(this.hardState(), this.prevHardState) ||
      !softStateEquals(this.softState(), this.prevSoftState)
    );
  }

  ready(): Ready {
    invariant(this.outstanding === undefined, 'ready() called again before advance()');
    const r = this.raft;
    r.flushAppends();
    const hardState = this.hardState();
    const softState = this.softState();
    const entries = r.log.unstableEntries();
    const snapshot = r.log.unstable.snapshot;
    const hardStateChanged = !hardStateEquals(hardState, this.prevHardState);
    const termOrVoteChanged = hardState.term !== this.prevHardState.term || hardState.vote !== this.prevHardState.vote;
    // A message from a term or vote not yet on disk could be unsaid by a crash (a node that forgot
    // its vote could vote twice): then everything waits for the disk. A leader elected by others
    // never gets here (its vote was persisted before the vote requests left); a lone voter may.
    const messagesBeforePersist = termOrVoteChanged ? [] : r.msgsBeforePersist;
    const messages = termOrVoteChanged ? [...r.msgsBeforePersist, ...r.msgs] : r.msgs;
    const ready: Ready = {
      softState: softStateEquals(softState, this.prevSoftState) ? undefined : softState,
      hardState: hardStateChanged ? hardState : undefined,
      readStates: r.readStates,
      entries,
      snapshot,
      committedEntries: r.log.hasNextCommittedEntries() ? r.log.nextCommittedEntries(r.maxCommittedEntriesPerReady) : [],
      messagesBeforePersist,
      messages,
      mustSync: entries.length > 0 || snapshot !== undefined || termOrVoteChanged,
    };
    for (const e of ready.committedEntries) {
      invariant(e.index <= hardState.commit, () => `handing out entry ${e.index} beyond commit ${hardState.commit}`);
    }
    r.msgs = [];
    r.msgsBeforePersist = [];
    r.readStates = [];
    this.outstanding = ready;
    return ready;
  }

  /** The work of the last Ready is done: persisted, sent and applied. */
  advance(): void {
    const ready = this.outstanding;
    invariant(ready !== undefined, 'advance() without a ready()');
    const log = this.raft.log;
    if (ready.hardState) this.prevHardState = ready.hardState;
    if (ready.softState) this.prevSoftState = ready.softState;
    if (ready.snapshot) {
      log.stableSnapshotTo(ready.snapshot.metadata.index);
      log.appliedTo(ready.snapshot.metadata.index);
    }
    if (ready.entries.length > 0) {
      const last = ready.entries[ready.entries.length - 1];
      log.stableTo(last.index, last.term);
    }
    if (ready.committedEntries.length > 0) {
      log.appliedTo(ready.committedEntries[ready.committedEntries.length - 1].index);
    }
    this.outstanding = undefined;
    const persisted = ready.entries.length > 0 ? ready.entries[ready.entries.length - 1] : ready.snapshot?.metadata;
    if (persisted) this.raft.persisted(persisted.index, persisted.term);
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }
}

function softStateEquals(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}
