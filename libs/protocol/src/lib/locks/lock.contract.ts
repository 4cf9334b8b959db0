/**
 * The lock-manager's wire contract over NATS request/reply (`rpc.lock-manager.<pattern>`), shared
 * by the service that answers it and the client other services call it with.
 */
export const LOCK_MANAGER_SERVICE = 'lock-manager';

export const LockPatterns = {
  Acquire: 'acquire',
  Renew: 'renew',
  Release: 'release',
  Inspect: 'inspect',
} as const;
export type LockPattern = (typeof LockPatterns)[keyof typeof LockPatterns];

export type LockMode = 'exclusive' | 'shared';

/**
 * A lease's own secret, returned by acquire to the acquirer alone: renew and release need it, so
 * knowing a lock's owner and fencing token (which inspect shows anyone) is not enough to end or
 * keep someone else's lease. base64url, LEASE_SECRET_MIN_LENGTH..LEASE_SECRET_MAX_LENGTH
 * characters; whoever draws one draws LEASE_SECRET_BYTES random bytes. The lock-manager keeps only
 * a hash of it: its log, snapshots and inspect never show it.
 */
export const LEASE_SECRET_BYTES = 32;
export const LEASE_SECRET_MIN_LENGTH = 32;
export const LEASE_SECRET_MAX_LENGTH = 128;
export const LEASE_SECRET_PATTERN = /^[A-Za-z0-9_-]+$/;

export function isLeaseSecret(value: unknown): value is string {
  return typeof value === 'string' && value.length >= LEASE_SECRET_MIN_LENGTH && value.length <= LEASE_SECRET_MAX_LENGTH && LEASE_SECRET_PATTERN.test(value);
}

export interface AcquireLockRequest {
  readonly resource: string;
  readonly owner: string;
  readonly mode: LockMode;
  readonly ttlMs: number;
  /** 0: fail at once with LOCK_CONFLICT if taken; otherwise queue for at most this long. */
  readonly waitMs: number;
  /** Chosen by the client and reused on retries, so a retried acquire never gets a second grant. */
  readonly requestId?: string;
  /**
   * The lease's secret, drawn by the client and reused on retries with the same requestId (a retry
   * with another secret is refused LOCK_SECRET_MISMATCH). Absent: the replica that receives the
   * acquire draws one, and the grant returns it.
   */
  readonly leaseSecret?: string;
}

export interface LockGrant {
  readonly resource: string;
  readonly owner: string;
  readonly mode: LockMode;
  readonly fencingToken: number;
  /** Committed (leader) time at which the lease ends unless renewed. */
  readonly expiresAtMs: number;
  /** The lease's own secret: renew and release need it. Only the acquire's reply carries it. */
  readonly leaseSecret: string;
}

export interface RenewLockRequest {
  readonly resource: string;
  readonly owner: string;
  readonly fencingToken: number;
  /** The grant's leaseSecret; another is refused LOCK_SECRET_MISMATCH. */
  readonly leaseSecret: string;
  readonly ttlMs: number;
}

export interface LockRenewal {
  readonly resource: string;
  readonly owner: string;
  readonly fencingToken: number;
  readonly expiresAtMs: number;
}

export interface ReleaseLockRequest {
  readonly resource: string;
  readonly owner: string;
  readonly fencingToken: number;
  /** The grant's leaseSecret; another is refused LOCK_SECRET_MISMATCH. */
  readonly leaseSecret: string;
}

export interface LockRelease {
  readonly resource: string;
  readonly owner: string;
  readonly fencingToken: number;
}

export interface InspectLockRequest {
  readonly resource: string;
}

export interface LockInspection {
  readonly resource: string;
  /** Committed time of the state shown. */
  readonly nowMs: number;
  /** No grant of this resource had a larger token, and the next will have a larger one (a free resource shows the table's last token). */
  readonly lastFencingToken: number;
  readonly holders: readonly { readonly owner: string; readonly mode: LockMode; readonly fencingToken: number; readonly expiresAtMs: number }[];
  readonly waiters: readonly { readonly owner: string; readonly mode: LockMode; readonly deadlineMs: number }[];
}

/** Refusals the lock table itself decides. */
export const LockErrorCodes = {
  Deadlock: 'LOCK_DEADLOCK',
  Conflict: 'LOCK_CONFLICT',
  WaitTimeout: 'LOCK_WAIT_TIMEOUT',
  NotHeld: 'LOCK_NOT_HELD',
  /**
   * A renew or release (or a retried acquire) whose lease secret is not the grant's, or of a grant
   * made before lease secrets existed (those can only expire by their lease).
   */
  SecretMismatch: 'LOCK_SECRET_MISMATCH',
  AlreadyHeld: 'LOCK_ALREADY_HELD',
  AlreadyWaiting: 'LOCK_ALREADY_WAITING',
  QueueFull: 'LOCK_QUEUE_FULL',
  Invalid: 'LOCK_INVALID_REQUEST',
} as const;
export type LockErrorCode = (typeof LockErrorCodes)[keyof typeof LockErrorCodes];

/** Stable codes the lock-manager answers with (besides the transport's TIMEOUT and NO_HANDLER). */
export const LockWireErrorCodes = {
  ...LockErrorCodes,
  NotLeader: 'RAFT_NOT_LEADER',
  Superseded: 'RAFT_PROPOSAL_SUPERSEDED',
  Stopped: 'RAFT_STOPPED',
  /** Raised by the client, not the service: a held lease ran out or was taken away. */
  Lost: 'LOCK_LOST',
} as const;

/** Codes after which the same request may simply be sent again (to whichever replica answers). */
export const RETRYABLE_LOCK_CODES: ReadonlySet<string> = new Set([
  'TIMEOUT',
  'NO_HANDLER',
  LockWireErrorCodes.NotLeader,
  LockWireErrorCodes.Superseded,
  LockWireErrorCodes.Stopped,
]);
