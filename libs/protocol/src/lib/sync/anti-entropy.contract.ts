import type { EventEnvelope } from '../envelope';

/**
 * Anti-entropy between regions (docs/anti-entropy.md): what one region's sync asks another's over
 * `fed.<peer>.ae.node` (FederationOps.merkleNode) and `fed.<peer>.ae.key-events`
 * (FederationOps.keyEvents). Requests are signed with the cluster credentials (MESSAGE_AUTH_HEADER)
 * and refused unsigned. Replies are the RPC reply shape: `{ok: true, value}` or `{ok: false, error}`.
 *
 * The tree: a bucket's keys are partitioned by key id (SHA-256 hex of the key), sixteen children
 * per node, one hex digit per level, ANTI_ENTROPY_TREE_DEPTH levels. A node is named by its key-id
 * prefix ('' is the root). A leaf range's hash covers its keys in key-id order, each key by its
 * digest over its versions' (key, versionId, etag, deleted); an inner node's hash covers its
 * sixteen children's. Both regions build the same shape, so equal hashes mean equal ranges.
 */

/** Key-id hex digits that name a leaf range: 16^4 = 65,536 ranges. */
export const ANTI_ENTROPY_TREE_DEPTH = 4;
/** Children per node: one hex digit of the key id per level. */
export const ANTI_ENTROPY_TREE_FANOUT = 16;
/** At most this many nodes' children in one AntiEntropyNodeRequest. */
export const ANTI_ENTROPY_NODES_MAX = 64;
/** At most this many key digests in one AntiEntropyNodeReply. */
export const ANTI_ENTROPY_KEYS_MAX = 2_000;
/** A key-events reply stops adding events past this many bytes of JSON (one event always fits). */
export const ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES = 512 * 1024;

/** Error codes of the anti-entropy ops (besides the shared ones). */
export const AntiEntropyErrorCodes = {
  /** The requester's tree shape (depth) is not this region's. */
  TreeShapeMismatch: 'AE_TREE_SHAPE_MISMATCH',
  /** The bucket is not replicated here (absent, or `local`). */
  NotReplicated: 'AE_NOT_REPLICATED',
} as const;

export interface AntiEntropyNodeSummary {
  readonly hash: string;
  /** Keys in the node's range. */
  readonly keys: number;
}

export interface AntiEntropyNode extends AntiEntropyNodeSummary {
  readonly prefix: string;
  /** The sixteen children in hex-digit order; empty for a leaf range. */
  readonly children: readonly AntiEntropyNodeSummary[];
}

export interface AntiEntropyKeyDigest {
  readonly keyId: string;
  readonly digest: string;
}

/**
 * One of: a probe (`probe: true`, answers at once: the link and the peer's sync are up), nodes
 * (`prefixes`: each node's hash, key count and children), or the key digests of one range
 * (`keysIn`, paged by `afterKeyId`). The answering region reads its tree of the bucket, built
 * from its metadata's leaves (ListReplicaLeaves) and kept for a short while, so one comparison
 * reads one tree.
 */
export interface AntiEntropyNodeRequest {
  /** The region asking (logs and metrics). */
  readonly requester: string;
  readonly bucket?: string;
  /** Must be ANTI_ENTROPY_TREE_DEPTH of the answerer, else AE_TREE_SHAPE_MISMATCH. */
  readonly depth?: number;
  readonly probe?: boolean;
  /** Key-id prefixes of at most ANTI_ENTROPY_TREE_DEPTH digits, at most ANTI_ENTROPY_NODES_MAX. */
  readonly prefixes?: readonly string[];
  readonly keysIn?: {
    readonly prefix: string;
    /** Keys strictly after this key id (the previous page's `nextAfterKeyId`). */
    readonly afterKeyId?: string;
  };
  /** Set by the requester on the first request of a comparison: build a fresh tree. */
  readonly fresh?: boolean;
}

export interface AntiEntropyNodeReply {
  readonly region: string;
  /** ISO time the tree read was built at (absent for a probe). */
  readonly builtAt?: string;
  readonly nodes?: readonly AntiEntropyNode[];
  /** Key digests of `keysIn`, ascending by key id. */
  readonly keys?: readonly AntiEntropyKeyDigest[];
  /** Pass as `keysIn.afterKeyId` for more; null when the range holds no more. */
  readonly nextAfterKeyId?: string | null;
}

/**
 * A key's events in the answering region's META (the key's subject), in stream order, after
 * `afterSequence`; events whose origin (envelope.origin ?? envelope.region) is `excludeOrigin` are
 * left out (the requester has them: they are its own changes). A page ends past
 * ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES.
 */
export interface AntiEntropyKeyEventsRequest {
  readonly requester: string;
  readonly bucket: string;
  readonly keyId: string;
  readonly afterSequence?: number;
  readonly excludeOrigin?: string;
}

export interface AntiEntropyKeyEvent {
  /** The event's sequence in the answering region's META. */
  readonly sequence: number;
  readonly envelope: EventEnvelope;
}

export interface AntiEntropyKeyEventsReply {
  readonly region: string;
  readonly events: readonly AntiEntropyKeyEvent[];
  /** The last sequence this page covered: pass as `afterSequence` when `isTruncated`. */
  readonly throughSequence: number;
  readonly isTruncated: boolean;
}

/** One run's outcome for a bucket against one peer region, as GET /replication/anti-entropy shows it. */
export interface AntiEntropyRunReport {
  readonly bucket: string;
  readonly peer: string;
  /** What started it: the interval, a link that healed, an operator, the service starting. */
  readonly trigger: 'interval' | 'link-healed' | 'operator' | 'startup';
  readonly state: 'running' | 'done' | 'failed';
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** Local and peer roots were equal: nothing else was compared. */
  readonly inSync: boolean | null;
  /** Tree nodes whose hashes were compared (root included). */
  readonly rangesCompared: number;
  /** Ranges whose keys were listed on both sides. */
  readonly rangesListed: number;
  readonly keysLocal: number;
  readonly keysPeer: number;
  /** Keys whose digests differ, or that one side lacks. */
  readonly keysDiffering: number;
  /** Of those, keys only this region holds (the peer's own run pulls them). */
  readonly keysOnlyHere: number;
  /** Keys for which at least one event was applied here. */
  readonly keysRepaired: number;
  readonly eventsFetched: number;
  readonly eventsApplied: number;
  /** Events this region had already applied (applyReplicated answered applied: false). */
  readonly eventsAlreadyApplied: number;
  /** Chunks pulled for repaired versions (not inline). */
  readonly chunksPulled: number;
  /** Up to a few of the errors met; `errorCount` counts them all. */
  readonly errors: readonly string[];
  readonly errorCount: number;
}

export interface AntiEntropyStatusView {
  readonly region: string;
  readonly instance: string;
  /** Whether this instance holds the region's anti-entropy lease (only it runs comparisons). */
  readonly leader: boolean;
  readonly intervalMs: number;
  readonly peers: readonly { readonly region: string; readonly reachable: boolean | null; readonly lastChangeAt: string | null }[];
  /** Runs in progress and queued, as `bucket→peer`. */
  readonly running: readonly string[];
  readonly queued: readonly string[];
  /** The latest report per bucket and peer. */
  readonly reports: readonly AntiEntropyRunReport[];
}
