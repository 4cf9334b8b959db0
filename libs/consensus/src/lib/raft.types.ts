/**
 * The vocabulary of the Raft core: log entries, persistent state, snapshots and the messages
 * peers exchange. Plain readonly data, so that any transport can serialise it as JSON.
 */
export type NodeId = string;
/** No node: no leader known, no vote cast. */
export const NO_NODE: NodeId = '';

export interface ConfState {
  readonly voters: readonly NodeId[];
}

export type ConfChange =
  | { readonly type: 'add-voter'; readonly nodeId: NodeId }
  | { readonly type: 'remove-voter'; readonly nodeId: NodeId };

export type Entry =
  | { readonly kind: 'normal'; readonly term: number; readonly index: number; readonly data: string }
  | {
      readonly kind: 'conf-change';
      readonly term: number;
      readonly index: number;
      readonly change: ConfChange;
      /** The voters once this change applies: a node that joins learns the whole configuration. */
      readonly voters: readonly NodeId[];
    };

/** What must be on stable storage before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NO_NODE, commit: 0 };

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The application's state machine at `metadata.index`, opaque to the core. */
  readonly data: string;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export type Message =
  | (Envelope & { readonly type: 'pre-vote' | 'vote'; readonly lastLogIndex: number; readonly lastLogTerm: number; readonly transfer: boolean })
  | (Envelope & { readonly type: 'pre-vote-response' | 'vote-response'; readonly reject: boolean })
  | (Envelope & {
      readonly type: 'append';
      readonly prevLogIndex: number;
      readonly prevLogTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    })
  | (Envelope & {
      readonly type: 'append-response';
      readonly reject: boolean;
      /** Accepted: the highest index now known to match. Rejected: the prevLogIndex refused. */
      readonly index: number;
      /** On reject: the follower's last index, so the leader can skip back in one step. */
      readonly rejectHint: number;
    })
  | (Envelope & { readonly type: 'heartbeat'; readonly commit: number; readonly context: string })
  | (Envelope & { readonly type: 'heartbeat-response'; readonly context: string })
  | (Envelope & { readonly type: 'snapshot'; readonly snapshot: Snapshot })
  | (Envelope & { readonly type: 'timeout-now' })
  | (Envelope & { readonly type: 'read-index'; readonly context: string })
  | (Envelope & { readonly type: 'read-index-response'; readonly index: number; readonly context: string; readonly reject: boolean });

export type MessageType = Message['type'];

/**
 * The work the caller must do, in this order: send `messagesBeforePersist` (or send them while
 * persisting), persist `snapshot`, `entries` and `hardState` (fsync when `mustSync`), then send
 * `messages`, then apply `snapshot` and `committedEntries` to the state machine, then call
 * `advance()`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  /**
   * A leader's appends and heartbeats, which need nothing of this Ready on disk (Raft thesis
   * §10.2.1): the leader counts its own log toward a commit only from `advance()` on, once the
   * entries are durable, so followers may write them while the leader does.
   */
  readonly messagesBeforePersist: readonly Message[];
  /** Messages that may leave only once this Ready's durable part is on disk (votes, acknowledgements). */
  readonly messages: readonly Message[];
  readonly mustSync: boolean;
}

export function isEmptySnapshot(snapshot: Snapshot | undefined): boolean {
  return snapshot === undefined || snapshot.metadata.index === 0;
}

export function hardStateEquals(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function entriesEqual(a: Entry, b: Entry): boolean {
  if (a.index !== b.index || a.term !== b.term || a.kind !== b.kind) return false;
  if (a.kind === 'normal' && b.kind === 'normal') return a.data === b.data;
  if (a.kind === 'conf-change' && b.kind === 'conf-change') {
    return a.change.type === b.change.type && a.change.nodeId === b.change.nodeId && a.voters.join(',') === b.voters.join(',');
  }
  return false;
}
