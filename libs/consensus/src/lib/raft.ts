import { assertNever, invariant } from './invariant';
import { Progress } from './progress';
import { RaftLog } from './raft-log';
import { ReadOnlyQueue } from './read-only';
import type { RandomSource } from './random-source';
import {
  NO_NODE,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ReadState,
  type Role,
  type Snapshot,
} from './raft.types';
import { LogCompactedError, type RaftStorage } from './storage.port';

export const DEFAULT_ELECTION_TIMEOUT_TICKS = 10;
export const DEFAULT_HEARTBEAT_INTERVAL_TICKS = 1;
export const DEFAULT_MAX_ENTRIES_PER_APPEND = 64;
/** Snapshot size (characters of its data) given one more election timeout to arrive before it is sent again. */
export const SNAPSHOT_CHARS_PER_ELECTION_TIMEOUT = 4 * 1024 * 1024;
export const DEFAULT_MAX_INFLIGHT_APPENDS = 16;
export const DEFAULT_MAX_UNCOMMITTED_ENTRIES = 4096;
export const DEFAULT_MAX_COMMITTED_ENTRIES_PER_READY = 1024;
/** Old configurations kept for `confStateAt`, beyond those still needed by the log. */
const MAX_CONF_HISTORY = 64;

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly random: RandomSource;
  readonly electionTimeoutTicks?: number;
  readonly heartbeatIntervalTicks?: number;
  readonly maxEntriesPerAppend?: number;
  readonly maxInflightAppends?: number;
  readonly maxUncommittedEntries?: number;
  readonly maxCommittedEntriesPerReady?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
      readonly ok: false;
      readonly reason: 'not-leader' | 'transferring-leadership' | 'too-many-uncommitted' | 'conf-change-pending' | 'invalid-conf-change';
      readonly lead: NodeId;
    };

export type ReadIndexResult = { readonly ok: true } | { readonly ok: false; readonly reason: 'no-leader' | 'leader-not-ready'; readonly lead: NodeId };

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: Progress['state'];
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly role: Role;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly voters: readonly NodeId[];
  readonly leadTransferee: NodeId;
  readonly progress: Readonly<Record<NodeId, ProgressStatus>>;
}

type StepFn = (m: Message) => void;
/** A message before the sender's id is stamped on it. */
type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'from'> : never) : never;

/**
 * The Raft protocol as a deterministic state machine (after etcd-io/raft `raft.go`): ticks and
 * messages go in, messages and log changes come out through `msgs` and `log`. Roles are step
 * functions swapped on role change. Configuration changes take effect when committed, one at a
 * time, so every two successive configurations share a majority.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NO_NODE;
  lead: NodeId = NO_NODE;
  role: Role = 'follower';
  readonly log: RaftLog;
  /** Messages that must wait until the current Ready's durable part is on disk. */
  msgs: Message[] = [];
  /** A leader's appends and heartbeats: they depend on nothing unpersisted (see `send`). */
  msgsBeforePersist: Message[] = [];
  readStates: ReadState[] = [];

  private voters: NodeId[] = [];
  private confHistory: { index: number; voters: NodeId[] }[] = [];
  private confScannedTo: number;
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnlyQueue();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = NO_NODE;
  private pendingConfIndex = 0;
  /**
   * A leader's appends wait for the next Ready (`flushAppends`): proposals made in one turn leave
   * as one append per follower, and a commit index that moved several times as one message.
   */
  private entriesToSend = false;
  private commitToSend = false;
  private stepRole: StepFn;

  private readonly random: RandomSource;
  private readonly electionTimeoutTicks: number;
  private readonly heartbeatIntervalTicks: number;
  private readonly maxEntriesPerAppend: number;
  private readonly maxInflightAppends: number;
  private readonly maxUncommittedEntries: number;
  readonly maxCommittedEntriesPerReady: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;

  constructor(config: RaftConfig) {
    this.id = config.id;
    invariant(this.id !== NO_NODE, 'a node needs a non-empty id');
    this.random = config.random;
    this.electionTimeoutTicks = config.electionTimeoutTicks ?? DEFAULT_ELECTION_TIMEOUT_TICKS;
    this.heartbeatIntervalTicks = config.heartbeatIntervalTicks ?? DEFAULT_HEARTBEAT_INTERVAL_TICKS;
    invariant(this.heartbeatIntervalTicks < this.electionTimeoutTicks, 'heartbeats must be more frequent than elections');
    this.maxEntriesPerAppend = config.maxEntriesPerAppend ?? DEFAULT_MAX_ENTRIES_PER_APPEND;
    this.maxInflightAppends = config.maxInflightAppends ?? DEFAULT_MAX_INFLIGHT_APPENDS;
    this.maxUncommittedEntries = config.maxUncommittedEntries ?? DEFAULT_MAX_UNCOMMITTED_ENTRIES;
    this.maxCommittedEntriesPerReady = config.maxCommittedEntriesPerReady ?? DEFAULT_MAX_COMMITTED_ENTRIES_PER_READY;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;

    this.log = new RaftLog(config.storage);
    const { hardState, confState } = config.storage.initialState();
    this.voters = [...confState.voters].sort();
    this.confScannedTo = this.log.firstIndex() - 1;
    this.confHistory = [{ index: this.confScannedTo, voters: this.voters }];
    this.term = hardState.term;
    this.vote = hardState.vote;
    invariant(hardState.commit <= this.log.lastIndex(), () => `stored commit ${hardState.commit} beyond last index ${this.log.lastIndex()}`);
    this.log.commitTo(hardState.commit);
    this.applyCommittedConfChanges();
    this.stepRole = this.stepFollower;
    this.becomeFollower(this.term, NO_NODE);
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  step(m: Message): void {
    invariant(m.to === this.id, () => `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        // Check-quorum leases: while we hear from a leader, a node that merely lost contact must
        // not depose it. A transfer is the one sanctioned exception.
        const inLease = this.checkQuorum && this.lead !== NO_NODE && this.electionElapsed < this.electionTimeoutTicks;
        if (!m.transfer && inLease) return;
      }
      if (m.type === 'pre-vote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'pre-vote-response' && !m.reject) {
        // Granted pre-votes carry the future term the candidate asked about.
      } else {
        const lead = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' ? m.from : NO_NODE;
        this.becomeFollower(m.term, lead);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'heartbeat' || m.type === 'append')) {
        // A stale leader (or a node stuck at a lower term behind pre-vote) learns our term.
        this.send({ type: 'append-response', to: m.from, term: this.term, reject: true, index: 0, rejectHint: this.log.lastIndex() });
      } else if (m.type === 'pre-vote') {
        this.send({ type: 'pre-vote-response', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'pre-vote') {
      this.handleVoteRequest(m);
      return;
    }
    this.stepRole(m);
  }

  propose(data: string): ProposeResult {
    const refusal = this.refuseProposal();
    if (refusal) return refusal;
    const index = this.appendEntries([{ kind: 'normal', term: this.term, index: this.log.lastIndex() + 1, data }]);
    this.entriesToSend = true;
    return { ok: true, index, term: this.term };
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    const refusal = this.refuseProposal();
    if (refusal) return refusal;
    // A new leader must first commit an entry of its own term (its empty entry sets
    // pendingConfIndex); single-server changes are unsafe without it (Ongaro, raft-dev 2015).
    if (this.pendingConfIndex > this.log.committed) return { ok: false, reason: 'conf-change-pending', lead: this.lead };
    const isVoter = this.voters.includes(change.nodeId);
    if ((change.type === 'add-voter' && isVoter) || (change.type === 'remove-voter' && (!isVoter || this.voters.length === 1))) {
      return { ok: false, reason: 'invalid-conf-change', lead: this.lead };
    }
    const voters = change.type === 'add-voter' ? [...this.voters, change.nodeId].sort() : this.voters.filter((v) => v !== change.nodeId);
    const index = this.appendEntries([{ kind: 'conf-change', term: this.term, index: this.log.lastIndex() + 1, change, voters }]);
    this.pendingConfIndex = index;
    this.bcastAppend();
    return { ok: true, index, term: this.term };
  }

  readIndex(context: string): ReadIndexResult {
    if (this.role === 'leader') return this.leaderReadIndex(this.id, context) ? { ok: true } : { ok: false, reason: 'leader-not-ready', lead: this.lead };
    if (this.lead === NO_NODE || this.role !== 'follower') return { ok: false, reason: 'no-leader', lead: this.lead };
    this.send({ type: 'read-index', to: this.lead, term: this.term, context });
    return { ok: true };
  }

  /** Hands leadership to `to` once its log is caught up (Raft thesis §3.10). */
  transferLeader(to: NodeId): boolean {
    if (this.role !== 'leader' || to === this.id || !this.voters.includes(to)) return false;
    if (this.leadTransferee === to) return true;
    this.leadTransferee = to;
    // The transfer must finish within one election timeout, or it is abandoned.
    this.electionElapsed = 0;
    const pr = this.mustProgress(to);
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
    return true;
  }

  /** Starts an election now, as if the election timeout had passed. */
  campaignNow(): void {
    this.hup(false);
  }

  /**
   * The caller has made the log durable up to `index` (of `term`). Only now does a leader count
   * its own copy toward a commit: it sent those entries before writing them (§10.2.1), so until
   * here a commit needs a majority of followers that have them durable.
   */
  persisted(index: number, term: number): void {
    if (this.role !== 'leader' || this.log.term(index) !== term) return;
    if (!this.mustProgress(this.id).maybeUpdate(index)) return;
    if (this.maybeCommit()) this.commitToSend = true;
  }

  /** Whether `flushAppends` has anything to send. */
  hasAppendsToFlush(): boolean {
    return this.role === 'leader' && (this.entriesToSend || this.commitToSend);
  }

  /**
   * Sends what proposals and commits since the last Ready left to send: new entries to every
   * follower whose window is open, and the commit index, on an empty append if need be. The
   * caller runs it just before it collects a Ready's messages.
   */
  flushAppends(): void {
    if (!this.hasAppendsToFlush()) return;
    const sendIfEmpty = this.commitToSend;
    this.entriesToSend = false;
    this.commitToSend = false;
    for (const voter of this.voters) {
      if (voter === this.id) continue;
      // A follower that already heard of this commit index (on an append sent since) needs no empty append.
      if (!this.sendAppend(voter, sendIfEmpty && this.mustProgress(voter).commitSent < this.log.committed)) continue;
      while (this.sendAppend(voter, false)) {
        // More than one append's worth of entries: fill the window, as an answer would.
      }
    }
  }

  // ---------------------------------------------------------------- queries

  confState(): ConfState {
    return { voters: this.voters.slice() };
  }

  /** The configuration in force at `index` (which must be committed and not compacted away). */
  confStateAt(index: number): ConfState {
    invariant(index <= this.log.committed, () => `confStateAt(${index}) beyond commit ${this.log.committed}`);
    let found: { index: number; voters: NodeId[] } | undefined;
    for (const c of this.confHistory) if (c.index <= index) found = c;
    invariant(found !== undefined, () => `no configuration known at ${index}`);
    return { voters: found.voters.slice() };
  }

  status(): RaftStatus {
    const progress: Record<NodeId, ProgressStatus> = {};
    for (const [id, pr] of this.progress) progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      role: this.role,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      firstIndex: this.log.firstIndex(),
      voters: this.voters.slice(),
      leadTransferee: this.leadTransferee,
      progress,
    };
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
    this.stepRole = this.stepFollower;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'a leader never becomes a pre-candidate directly');
    this.votes.clear();
    this.lead = NO_NODE;
    this.role = 'pre-candidate';
    this.stepRole = this.stepCandidate;
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'a leader never becomes a candidate directly');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.stepRole = this.stepCandidate;
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `only a candidate becomes leader, not a ${this.role}`);
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.stepRole = this.stepLeader;
    const last = this.log.lastIndex();
    for (const voter of this.voters) {
      const pr = new Progress(last + 1, this.maxInflightAppends);
      if (voter === this.id) {
        pr.match = this.log.durableLastIndex();
        pr.becomeReplicate();
        pr.recentActive = true;
      }
      this.progress.set(voter, pr);
    }
    // An empty entry of the new term: committing it commits everything before it (§5.4.2).
    this.pendingConfIndex = this.appendEntries([{ kind: 'normal', term: this.term, index: last + 1, data: '' }]);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      invariant(term > this.term, () => `term went back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeoutTicks + this.random.nextInt(this.electionTimeoutTicks);
    this.leadTransferee = NO_NODE;
    this.votes.clear();
    this.progress.clear();
    this.readOnly.reset();
    this.pendingConfIndex = 0;
    this.entriesToSend = false;
    this.commitToSend = false;
  }

  private promotable(): boolean {
    return this.voters.includes(this.id);
  }

  private quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    for (const [id, pr] of this.progress) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks > pr.snapshotPatienceTicks) {
        // The snapshot (or its answer) was lost: probe again, which resends it if still needed.
        pr.becomeProbe();
        this.sendAppend(id);
      }
    }
    if (this.electionElapsed >= this.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
      if (this.leadTransferee !== NO_NODE) this.leadTransferee = NO_NODE;
    }
    if (this.role === 'leader' && this.heartbeatElapsed >= this.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat('');
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const voter of this.voters) {
      const pr = this.mustProgress(voter);
      if (voter === this.id || pr.recentActive) active++;
      if (voter !== this.id) pr.recentActive = false;
    }
    return active >= this.quorum();
  }

  // ---------------------------------------------------------------- elections

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.preVote && !transfer) this.campaign('pre-vote', false);
    else this.campaign('vote', transfer);
  }

  private campaign(kind: 'pre-vote' | 'vote', transfer: boolean): void {
    let voteTerm: number;
    if (kind === 'pre-vote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
    }
    const outcome = this.poll(this.id, true);
    if (outcome === 'won') {
      if (kind === 'pre-vote') this.campaign('vote', false);
      else this.becomeLeader();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const voter of this.voters) {
      if (voter === this.id) continue;
      this.send({ type: kind, to: voter, term: voteTerm, lastLogIndex, lastLogTerm, transfer });
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from) && this.voters.includes(from)) this.votes.set(from, granted);
    let yes = 0;
    let no = 0;
    for (const g of this.votes.values()) {
      if (g) yes++;
      else no++;
    }
    if (yes >= this.quorum()) return 'won';
    if (no > this.voters.length - this.quorum()) return 'lost';
    return 'pending';
  }

  private handleVoteRequest(m: Extract<Message, { type: 'vote' | 'pre-vote' }>): void {
    const canVote =
      this.vote === m.from || (this.vote === NO_NODE && this.lead === NO_NODE) || (m.type === 'pre-vote' && m.term > this.term);
    const responseType = m.type === 'vote' ? 'vote-response' : 'pre-vote-response';
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      this.send({ type: responseType, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        invariant(this.vote === NO_NODE || this.vote === m.from, 'voted twice in one term');
        invariant(m.term === this.term, 'a vote is granted only in the current term');
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, to: m.from, term: this.term, reject: true });
    }
  }

  // ---------------------------------------------------------------- step functions

  private stepFollower = (m: Message): void => {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeout-now':
        this.hup(true);
        return;
      case 'read-index-response':
        if (!m.reject) this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'read-index':
      case 'append-response':
      case 'heartbeat-response':
      case 'vote-response':
      case 'pre-vote-response':
      case 'vote':
      case 'pre-vote':
        return;
      default:
        assertNever(m, 'message');
    }
  };

  private stepCandidate = (m: Message): void => {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // A leader exists for our term (or the pre-vote's current term): follow it.
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'pre-vote-response':
      case 'vote-response': {
        const expected = this.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
        if (m.type !== expected) return;
        const outcome = this.poll(m.from, !m.reject);
        if (outcome === 'won') {
          if (this.role === 'pre-candidate') {
            this.campaign('vote', false);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (outcome === 'lost') {
          this.becomeFollower(this.term, NO_NODE);
        }
        return;
      }
      case 'read-index':
        this.send({ type: 'read-index-response', to: m.from, term: this.term, index: 0, context: m.context, reject: true });
        return;
      case 'timeout-now':
      case 'read-index-response':
      case 'append-response':
      case 'heartbeat-response':
      case 'vote':
      case 'pre-vote':
        return;
      default:
        assertNever(m, 'message');
    }
  };

  private stepLeader = (m: Message): void => {
    switch (m.type) {
      case 'append-response':
        this.handleAppendResponse(m);
        return;
      case 'heartbeat-response':
        this.handleHeartbeatResponse(m);
        return;
      case 'read-index':
        if (!this.leaderReadIndex(m.from, m.context)) {
          this.send({ type: 'read-index-response', to: m.from, term: this.term, index: 0, context: m.context, reject: true });
        }
        return;
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        invariant(false, () => `two leaders in term ${this.term}: ${this.id} and ${m.from}`);
        return;
      case 'timeout-now':
      case 'read-index-response':
      case 'vote-response':
      case 'pre-vote-response':
      case 'vote':
      case 'pre-vote':
        return;
      default:
        assertNever(m, 'message');
    }
  };

  // ---------------------------------------------------------------- follower side

  private handleAppend(m: Extract<Message, { type: 'append' }>): void {
    if (m.prevLogIndex < this.log.committed) {
      this.send({ type: 'append-response', to: m.from, term: this.term, reject: false, index: this.log.committed, rejectHint: 0 });
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.applyCommittedConfChanges();
      this.send({ type: 'append-response', to: m.from, term: this.term, reject: false, index: lastNew, rejectHint: 0 });
    } else {
      this.send({ type: 'append-response', to: m.from, term: this.term, reject: true, index: m.prevLogIndex, rejectHint: this.log.lastIndex() });
    }
  }

  private handleHeartbeat(m: Extract<Message, { type: 'heartbeat' }>): void {
    // The leader sends min(match, commit), so this never passes what we acknowledged.
    this.log.commitTo(m.commit);
    this.applyCommittedConfChanges();
    this.send({ type: 'heartbeat-response', to: m.from, term: this.term, context: m.context });
  }

  private handleSnapshot(m: Extract<Message, { type: 'snapshot' }>): void {
    if (this.restore(m.snapshot)) {
      this.send({ type: 'append-response', to: m.from, term: this.term, reject: false, index: this.log.lastIndex(), rejectHint: 0 });
    } else {
      this.send({ type: 'append-response', to: m.from, term: this.term, reject: false, index: this.log.committed, rejectHint: 0 });
    }
  }

  private restore(snapshot: Snapshot): boolean {
    const meta = snapshot.metadata;
    if (meta.index <= this.log.committed) return false;
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already hold the snapshot's last entry: only the commit index is news.
      this.log.commitTo(meta.index);
      this.applyCommittedConfChanges();
      return false;
    }
    this.log.restore(snapshot);
    this.voters = [...meta.confState.voters].sort();
    this.confHistory = [{ index: meta.index, voters: this.voters }];
    this.confScannedTo = meta.index;
    return true;
  }

  // ---------------------------------------------------------------- leader side

  private refuseProposal(): Extract<ProposeResult, { ok: false }> | undefined {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', lead: this.lead };
    if (this.leadTransferee !== NO_NODE) return { ok: false, reason: 'transferring-leadership', lead: this.lead };
    if (this.log.lastIndex() - this.log.committed >= this.maxUncommittedEntries) return { ok: false, reason: 'too-many-uncommitted', lead: this.lead };
    return undefined;
  }

  /** The leader's own progress moves when the entries are durable (`persisted`), not here. */
  private appendEntries(entries: Entry[]): number {
    return this.log.append(entries);
  }

  private mustProgress(id: NodeId): Progress {
    const pr = this.progress.get(id);
    invariant(pr !== undefined, () => `leader ${this.id} has no progress for ${id}`);
    return pr;
  }

  /** Commits the highest index a quorum holds, if it is of the current term (§5.4.2). */
  private maybeCommit(): boolean {
    const matches = this.voters.map((v) => this.mustProgress(v).match).sort((a, b) => b - a);
    const candidate = matches[this.quorum() - 1];
    if (candidate > this.log.committed && this.log.term(candidate) === this.term) {
      this.log.commitTo(candidate);
      this.applyCommittedConfChanges();
      return true;
    }
    return false;
  }

  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevLogIndex = pr.next - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    let entries: Entry[] | undefined;
    try {
      entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.maxEntriesPerAppend);
    } catch (error) {
      if (!(error instanceof LogCompactedError)) throw error;
    }
    if (prevLogTerm === undefined || entries === undefined) {
      if (!pr.recentActive) return false;
      const snapshot = this.log.snapshot();
      invariant(snapshot.metadata.index > 0, 'a compacted log always has a snapshot');
      this.send({ type: 'snapshot', to, term: this.term, snapshot });
      // A big snapshot takes longer to send and restore than an election timeout: sending it again
      // before the first copy could have landed would only repeat the work.
      pr.becomeSnapshot(snapshot.metadata.index, this.electionTimeoutTicks * (1 + Math.floor(snapshot.data.length / SNAPSHOT_CHARS_PER_ELECTION_TIMEOUT)));
      return true;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'append', to, term: this.term, prevLogIndex, prevLogTerm, entries, commit: this.log.committed });
    pr.sentEntries(prevLogIndex + entries.length, entries.length);
    pr.commitSent = this.log.committed;
    return true;
  }

  private bcastAppend(): void {
    if (this.role !== 'leader') return;
    for (const voter of this.voters) if (voter !== this.id) this.sendAppend(voter);
  }

  private bcastHeartbeat(context: string): void {
    for (const voter of this.voters) {
      if (voter === this.id) continue;
      const pr = this.mustProgress(voter);
      this.send({ type: 'heartbeat', to: voter, term: this.term, commit: Math.min(pr.match, this.log.committed), context });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeout-now', to, term: this.term });
  }

  private handleAppendResponse(m: Extract<Message, { type: 'append-response' }>): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    if (m.reject) {
      if (pr.maybeDecreaseTo(m.index, m.rejectHint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) {
      if (pr.state === 'replicate') pr.freeInflightsUpTo(m.index);
      return;
    }
    invariant(pr.match <= this.log.lastIndex(), () => `${m.from} acknowledged ${pr.match} beyond our last index ${this.log.lastIndex()}`);
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
    else if (pr.state === 'replicate') pr.freeInflightsUpTo(m.index);

    if (this.maybeCommit()) this.commitToSend = true;
    else if (wasPaused) this.sendAppend(m.from);
    if (this.role !== 'leader') return;
    while (this.sendAppend(m.from, false)) {
      // Keep the window full: each iteration sends one more batch until paused or caught up.
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: Extract<Message, { type: 'heartbeat-response' }>): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.inflightsFull()) pr.freeFirstInflight();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context === '') return;
    if (this.readOnly.recvAck(m.from, m.context) < this.quorum()) return;
    for (const read of this.readOnly.advance(m.context)) this.releaseRead(read.from, read.index, read.context);
  }

  /** Returns false if this leader cannot serve reads yet. */
  private leaderReadIndex(from: NodeId, context: string): boolean {
    // Until an entry of our term commits we do not know the true commit index (§6.4).
    if (this.log.term(this.log.committed) !== this.term) return false;
    const index = this.log.committed;
    if (this.quorum() === 1) {
      this.releaseRead(from, index, context);
      return true;
    }
    this.readOnly.add(index, context, from);
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat(context);
    return true;
  }

  private releaseRead(from: NodeId, index: number, context: string): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send({ type: 'read-index-response', to: from, term: this.term, index, context, reject: false });
  }

  // ---------------------------------------------------------------- configuration

  private applyCommittedConfChanges(): void {
    while (this.confScannedTo < this.log.committed) {
      const batch = this.log.slice(this.confScannedTo + 1, this.log.committed + 1, this.maxCommittedEntriesPerReady);
      for (const entry of batch) {
        this.confScannedTo = entry.index;
        if (entry.kind === 'conf-change') {
          // Applying may commit more (and recurse into here): rescan from where we are.
          this.applyConfChange(entry.change, entry.voters, entry.index);
          break;
        }
      }
    }
  }

  private applyConfChange(change: ConfChange, voters: readonly NodeId[], index: number): void {
    invariant(voters.length > 0, 'a configuration change removed the last voter');
    invariant(
      change.type === 'add-voter' ? voters.includes(change.nodeId) : !voters.includes(change.nodeId),
      () => `configuration ${voters.join(',')} does not reflect ${change.type} ${change.nodeId}`,
    );
    this.voters = [...voters].sort();
    this.confHistory.push({ index, voters: this.voters });
    if (this.confHistory.length > MAX_CONF_HISTORY) {
      const keepFrom = this.log.firstIndex() - 1;
      const older = this.confHistory.filter((c) => c.index <= keepFrom);
      this.confHistory = [...older.slice(-1), ...this.confHistory.filter((c) => c.index > keepFrom)];
    }
    if (this.role !== 'leader') return;
    if (change.type === 'remove-voter' && change.nodeId === this.id) {
      this.becomeFollower(this.term, NO_NODE);
      return;
    }
    if (change.type === 'add-voter' && !this.progress.has(change.nodeId)) {
      this.progress.set(change.nodeId, new Progress(this.log.lastIndex() + 1, this.maxInflightAppends));
    }
    if (change.type === 'remove-voter') {
      this.progress.delete(change.nodeId);
      if (this.leadTransferee === change.nodeId) this.leadTransferee = NO_NODE;
    }
    if (this.maybeCommit()) this.bcastAppend();
  }

  // ---------------------------------------------------------------- output

  private send(m: Outgoing): void {
    const full = { ...m, from: this.id } as Message;
    invariant(full.to !== this.id, 'a node never sends to itself');
    // A leader's term and vote were durable before any vote for it was granted, and its own
    // entries count toward a commit only once persisted: its appends and heartbeats promise
    // nothing that a crash before the fsync could take back. Every answer a node gives (votes,
    // acknowledgements) still waits for the disk.
    if (this.role === 'leader' && (full.type === 'append' || full.type === 'heartbeat')) this.msgsBeforePersist.push(full);
    else this.msgs.push(full);
  }
}
