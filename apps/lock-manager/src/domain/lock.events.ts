import type { LockMode } from './lock.commands';

export const LockErrorCodes = {
  Deadlock: 'LOCK_DEADLOCK',
  Conflict: 'LOCK_CONFLICT',
  WaitTimeout: 'LOCK_WAIT_TIMEOUT',
  NotHeld: 'LOCK_NOT_HELD',
  AlreadyHeld: 'LOCK_ALREADY_HELD',
  AlreadyWaiting: 'LOCK_ALREADY_WAITING',
  QueueFull: 'LOCK_QUEUE_FULL',
  Invalid: 'LOCK_INVALID_REQUEST',
} as const;
export type LockErrorCode = (typeof LockErrorCodes)[keyof typeof LockErrorCodes];

/** What applying a command produced: the replies owed to clients and the lease changes. */
export type LockEvent =
  | {
      readonly type: 'LockGranted';
      readonly requestId: string;
      readonly resource: string;
      readonly owner: string;
      readonly mode: LockMode;
      readonly fencingToken: number;
      readonly expiresAtMs: number;
    }
  | { readonly type: 'LockQueued'; readonly requestId: string; readonly resource: string; readonly owner: string; readonly position: number }
  | { readonly type: 'LockRefused'; readonly requestId: string; readonly resource: string; readonly owner: string; readonly code: LockErrorCode; readonly message: string }
  | { readonly type: 'LockRenewed'; readonly resource: string; readonly owner: string; readonly fencingToken: number; readonly expiresAtMs: number }
  | { readonly type: 'LockReleased'; readonly resource: string; readonly owner: string; readonly fencingToken: number }
  | { readonly type: 'LockExpired'; readonly resource: string; readonly owner: string; readonly fencingToken: number };
