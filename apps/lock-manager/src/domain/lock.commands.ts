/**
 * Commands to the lock table, as they travel through the Raft log. Every command carries `nowMs`,
 * the time the leader proposed it with: expiry is decided by committed time, identically on every
 * replica and across failovers, never by a replica's own clock.
 */
import type { LockMode } from '@cairn/protocol';

export type { LockMode };

/**
 * The hash of a lease's secret (the shell hashes it: the secret itself never enters the log, a
 * snapshot or this table). `null` only in commands upcast from v1 log entries, made before lease
 * secrets: they apply exactly as v1 applied them, so replaying an old log reaches the state every
 * replica reached, and a grant they made has no secret, so no v2 renew or release matches it.
 */
export type LeaseSecretHash = string | null;

export type LockCommand =
  | {
      readonly type: 'AcquireLock';
      readonly requestId: string;
      readonly resource: string;
      readonly owner: string;
      readonly mode: LockMode;
      readonly ttlMs: number;
      /** 0: fail at once if the lock is taken; otherwise queue for at most this long. */
      readonly waitMs: number;
      readonly secretHash: LeaseSecretHash;
      readonly nowMs: number;
    }
  | {
      readonly type: 'RenewLock';
      readonly resource: string;
      readonly owner: string;
      readonly fencingToken: number;
      readonly secretHash: LeaseSecretHash;
      readonly ttlMs: number;
      readonly nowMs: number;
    }
  | {
      readonly type: 'ReleaseLock';
      readonly resource: string;
      readonly owner: string;
      readonly fencingToken: number;
      readonly secretHash: LeaseSecretHash;
      readonly nowMs: number;
    }
  /** Proposed by the leader on a timer so that leases and waits expire even when no one calls. */
  | { readonly type: 'AdvanceTime'; readonly nowMs: number };
