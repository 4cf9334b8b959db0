import { createHash, randomBytes } from 'node:crypto';
import { CairnError, LEASE_SECRET_BYTES, LEASE_SECRET_MAX_LENGTH, LEASE_SECRET_MIN_LENGTH, LockErrorCodes, isLeaseSecret } from '@cairn/protocol';

/** Separates these hashes from any other SHA-256 of the same bytes. */
const LEASE_SECRET_HASH_CONTEXT = 'cairn/lock-manager/lease-secret/v1\n';

/** A new lease secret, for an acquire whose caller sent none. */
export function newLeaseSecret(): string {
  return randomBytes(LEASE_SECRET_BYTES).toString('base64url');
}

/**
 * What the Raft log and the lock table keep of a secret: its SHA-256 (hex). A secret is
 * LEASE_SECRET_MIN_LENGTH or more random base64url characters, so one unsalted hash is enough.
 */
export function leaseSecretHash(secret: string): string {
  return createHash('sha256').update(LEASE_SECRET_HASH_CONTEXT).update(secret).digest('hex');
}

/**
 * The hash of a secret that came in a request, or LOCK_INVALID_REQUEST. The DTOs check the same
 * on the client-facing APIs; this guards what reaches the service by another way (a forwarded call).
 */
export function hashOfPresentedSecret(secret: unknown): string {
  if (!isLeaseSecret(secret)) {
    throw new CairnError(LockErrorCodes.Invalid, `leaseSecret must be ${LEASE_SECRET_MIN_LENGTH} to ${LEASE_SECRET_MAX_LENGTH} base64url characters (the grant's)`);
  }
  return leaseSecretHash(secret);
}
