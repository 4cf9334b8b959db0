import { LockErrorCodes, type LockErrorCode } from '@cairn/protocol';
import type { LockMode } from './lock.commands';

export { LockErrorCodes, type LockErrorCode };

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
