/**
 * Errors cross service boundaries as data with a stable code. S3 codes are used where one exists
 * (NoSuchKey, BucketAlreadyExists…); Cairn's own codes are upper snake case (LOCK_DEADLOCK).
 */
export interface ErrorReply {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Reply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorReply };

export class CairnError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'CairnError';
  }

  toReply(): ErrorReply {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  static fromReply(reply: ErrorReply): CairnError {
    return new CairnError(reply.code, reply.message, reply.details);
  }
}

export const ErrorCodes = {
  ConcurrencyConflict: 'CONCURRENCY_CONFLICT',
  Timeout: 'TIMEOUT',
  NoHandler: 'NO_HANDLER',
  Internal: 'INTERNAL',
  InvalidCommand: 'INVALID_COMMAND',
  /** No valid cluster signature or operator credential. */
  Unauthenticated: 'UNAUTHENTICATED',
  /** A valid credential whose role does not allow the operation. */
  Forbidden: 'FORBIDDEN',
} as const;
