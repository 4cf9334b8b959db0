import { subjectsFor } from '../subjects';

/**
 * What sync services of different regions say to each other over the federation's NATS links
 * (docs/replication.md). Events themselves cross by JetStream stream sourcing; these subjects are
 * the request/reply that sourcing does not do. Every request is signed with the cluster
 * credentials (MESSAGE_AUTH_HEADER) and refused unsigned; the subject names the region that
 * answers, so a request reaches exactly that region's sync instances (a queue group).
 */
export const SYNC_SERVICE = 'sync';

export const FederationOps = {
  /** A byte range of a chunk held in the answering region: ChunkRangeRequest → the bytes. */
  chunkRange: 'chunk.range',
  /** A write to an active-passive bucket, taken by another region, committed at its home. */
  forwardWrite: 'forward.write',
  /** Anti-entropy: the Merkle root and child hashes of a bucket's key range. */
  merkleNode: 'ae.node',
  /** Anti-entropy: a key's events in the answering region, to repair a region that lacks them. */
  keyEvents: 'ae.key-events',
  /** Control group (docs/failover.md): a Raft message between regions' voters (published, no reply). */
  controlRaft: 'control.raft',
  /** Control group: a region's check of another (ControlProbe → ControlProbeReply, with its lease grant). */
  controlProbe: 'control.probe',
  /** Control group: a proposal handed to the leader's region (ControlCommand → its result). */
  controlPropose: 'control.propose',
  /** Control group: how far this region has applied a region's changes (ControlProgressRequest → ControlProgressReply). */
  controlProgress: 'control.progress',
} as const;
export type FederationOp = (typeof FederationOps)[keyof typeof FederationOps];

/** `fed.<region>.<op>` under the namespace prefix: the `fed` family crosses links, unlike `rpc`. */
export function federationSubject(namespace: string, region: string, op: FederationOp): string {
  return subjectsFor(namespace).prefix(`fed.${region}.${op}`);
}

/** Largest range a chunk request may ask for: well inside NATS's default 1 MiB payload. */
export const CHUNK_RANGE_MAX_BYTES = 512 * 1024;

export interface ChunkRangeRequest {
  /** SHA-256 hex of the whole chunk. */
  readonly hash: string;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** Reply headers of a chunk range: its total size, or an error code and message. */
export const FEDERATION_CHUNK_SIZE_HEADER = 'Cairn-Chunk-Size';
export const FEDERATION_ERROR_HEADER = 'Cairn-Error';

/** Lag of one replication link (events of `source` applied in `target`): the measured RPO. */
export interface ReplicationLagView {
  readonly source: string;
  readonly target: string;
  /** Whether the target's copy of the source's stream is currently being fed (the link is up). */
  readonly connected: boolean;
  /** Source events the target has not yet applied (sourced or not yet sourced, as far as it knows). */
  readonly pendingEvents: number;
  /** Age of the oldest change not yet applied; 0 when caught up. */
  readonly lagSeconds: number;
  readonly appliedEvents: number;
  readonly lastAppliedAt: string | null;
  /** Per replicated bucket with changes pending. */
  readonly buckets: readonly { readonly bucket: string; readonly pendingEvents: number; readonly lagSeconds: number }[];
  /** Why the link is up or not, as the target's sync sees it, and the last error it met. */
  readonly link: ReplicationLinkStatus;
}

/**
 * connected: the source's stream feeds the target; connecting: the source region answers across
 * the link but nothing is fed yet (the target's sync redials with back-off); peer-unreachable:
 * nothing answers for the source region (the link or its NATS is down); peer-not-ready: the source
 * region's JetStream answers but its services have not made its stream yet; local-unavailable: the
 * target's own copy cannot be read (its NATS is away, or sync has not made it yet).
 */
export type ReplicationLinkState = 'connected' | 'connecting' | 'peer-unreachable' | 'peer-not-ready' | 'local-unavailable';

export interface ReplicationLinkStatus {
  readonly state: ReplicationLinkState;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly lastConnectedAt: string | null;
  /** Times the target's sync set the source up again because it stayed silent while the source region answered. */
  readonly redials: number;
}

/** Back-fill of a bucket that became replicated after it had data: progress per source region. */
export interface BackfillView {
  readonly bucket: string;
  readonly source: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly eventsTotal: number;
  readonly eventsApplied: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly error?: string;
}

/**
 * sync's own RPC (over NATS, within a region): metadata hands it a write to an active-passive
 * bucket whose home is another region (docs/replication.md).
 */
export const SyncRpc = {
  forwardWrite: 'forward.write',
  /** Who may acknowledge writes to an active-passive bucket now (BucketAuthorityRequest → BucketAuthority). */
  bucketAuthority: 'bucket.authority',
  /** How far this region has applied a region's changes, and how stale that leaves it (ReplicaPositionRequest → ReplicaPosition). */
  replicaPosition: 'replica.position',
} as const;

/** The `@MessagePattern` of a sync handler: `syncPattern(SyncRpc.forwardWrite)` = 'sync.forward.write'. */
export function syncPattern(pattern: (typeof SyncRpc)[keyof typeof SyncRpc]): string {
  return `${SYNC_SERVICE}.${pattern}`;
}

/** The writes a non-home region forwards: metadata's object-key commands, by their RPC. */
export const ForwardedWriteOps = ['put', 'copy', 'delete', 'put-tags', 'delete-tags', 'put-acl'] as const;
export type ForwardedWriteOp = (typeof ForwardedWriteOps)[number];

/** A completed multipart upload's version, when the forwarded put completes one. */
export interface ForwardedCompletion {
  readonly uploadId: string;
  readonly versionId: string;
  readonly partSizes: readonly number[];
}

/**
 * A write to an active-passive bucket taken by a region that is not its home. The chunks of a put
 * are in the region that took it (`originRegion`); the home's sync pulls them before committing.
 * Metadata → its sync: `homeRegion` set; sync → the home's sync (FederationOps.forwardWrite):
 * `originRegion` set. The reply is the home metadata's reply to the same request.
 */
export interface ForwardWriteRequest {
  readonly homeRegion?: string;
  readonly originRegion?: string;
  readonly op: ForwardedWriteOp;
  /** The metadata request as the region that took the write received it (PutObjectRequest, …). */
  readonly request: Record<string, unknown>;
  readonly completion?: ForwardedCompletion;
}

/**
 * The bucket events that replicate: a bucket's settings. Its deletion does not (each region empties
 * and deletes its own copy).
 */
export const REPLICATED_BUCKET_EVENT_TYPES: ReadonlySet<string> = new Set([
  'BucketCreated',
  'BucketVersioningChanged',
  'BucketReplicationChanged',
  'BucketDefaultStorageClassChanged',
  'BucketTagsSet',
  'BucketTagsDeleted',
  'BucketOwnerChanged',
  'BucketPolicySet',
  'BucketPolicyDeleted',
  'BucketCorsSet',
  'BucketCorsDeleted',
  'BucketEncryptionSet',
  'BucketEncryptionDeleted',
  'BucketObjectLockConfigured',
  'BucketAclSet',
  'BucketOwnershipControlsSet',
  'BucketOwnershipControlsDeleted',
  'BucketPublicAccessBlockSet',
  'BucketPublicAccessBlockDeleted',
  'BucketLifecycleSet',
  'BucketLifecycleDeleted',
]);

/** The object-key events that replicate; ConflictResolved and ReplicatedChangeSkipped are each region's own record. */
export const REPLICATED_OBJECT_EVENT_TYPES: ReadonlySet<string> = new Set([
  'ObjectVersionPut',
  'ObjectVersionCopied',
  'DeleteMarkerPut',
  'ObjectVersionDeleted',
  'ObjectTagsSet',
  'ObjectTagsDeleted',
  'ObjectAclSet',
  'ObjectLockChanged',
]);
