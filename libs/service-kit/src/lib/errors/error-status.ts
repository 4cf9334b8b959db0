import { ErrorCodes } from '@cairn/protocol';

/** HTTP status for Cairn's stable error codes on the admin/JSON APIs (S3 has its own table in access). */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [ErrorCodes.InvalidCommand]: 400,
  [ErrorCodes.ConcurrencyConflict]: 409,
  [ErrorCodes.Timeout]: 504,
  [ErrorCodes.NoHandler]: 503,
  [ErrorCodes.Internal]: 500,
  [ErrorCodes.Unauthenticated]: 401,
  [ErrorCodes.Forbidden]: 403,
  LOCK_DEADLOCK: 409,
  LOCK_TIMEOUT: 408,
  LOCK_WAIT_TIMEOUT: 408,
  LOCK_CONFLICT: 409,
  LOCK_NOT_HELD: 409,
  LOCK_SECRET_MISMATCH: 403,
  LOCK_ALREADY_HELD: 409,
  LOCK_ALREADY_WAITING: 409,
  LOCK_QUEUE_FULL: 429,
  LOCK_INVALID_REQUEST: 400,
  NOT_LEADER: 421,
  RAFT_NOT_LEADER: 421,
  RAFT_PROPOSAL_SUPERSEDED: 503,
  RAFT_STOPPED: 503,
  FENCING_TOKEN_STALE: 409,
  NODE_ALREADY_JOINED: 409,
  NODE_NOT_FOUND: 404,
  NODE_NOT_DRAINED: 409,
  NODE_NOT_EMPTY: 409,
  NODE_DRAIN_UNDER_REPLICATES: 409,
  NO_STORAGE_NODES: 503,
  STORAGE_FULL: 507,
};

export function statusForCode(code: string): number {
  if (STATUS_BY_CODE[code]) return STATUS_BY_CODE[code];
  if (code.startsWith('NoSuch')) return 404;
  if (code.endsWith('AlreadyExists') || code.endsWith('AlreadyOwnedByYou') || code.endsWith('NotEmpty')) return 409;
  if (code.startsWith('Invalid') || code.startsWith('Malformed') || code.endsWith('TooSmall') || code.endsWith('TooLarge')) return 400;
  if (code === 'PreconditionFailed') return 412;
  if (code === 'OperationAborted' || code === 'BucketSealed') return 409;
  if (code === 'AccessDenied') return 403;
  return 500;
}
