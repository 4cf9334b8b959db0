import { createHash } from 'node:crypto';

/**
 * A user: an account that owns buckets and objects and holds access keys (several may act for
 * one user). Its name is the `owner` of its keys and buckets; its canonical id is what ACLs and
 * S3's Owner elements name.
 */
export interface UserCreated {
  readonly type: 'UserCreated';
  readonly data: {
    readonly user: string;
    /** 64 lowercase hex digits: canonicalIdOf(user). */
    readonly canonicalId: string;
    readonly displayName: string;
    /** Lower-cased; what an AmazonCustomerByEmail grantee or emailAddress="…" grant names. */
    readonly email?: string;
    readonly createdAt: string;
  };
}

export type UserEvent = UserCreated;

/**
 * A user's canonical id, derived from its name: the same in every region and for every key that
 * ever named the user as its owner, including keys created before users were recorded (their
 * AccessKeyCreated events are upcast with it).
 */
export function canonicalIdOf(user: string): string {
  return createHash('sha256').update(`cairn-user\u0000${user}`).digest('hex');
}

export const USER_DISPLAY_NAME_MAX_CHARS = 128;
export const USER_EMAIL_MAX_CHARS = 254;
/** Deliberately loose: one @, something either side, no spaces or quotes. */
const EMAIL_PATTERN = /^[^\s@"<>,]+@[^\s@"<>,]+$/;

export function emailProblem(email: string): string | null {
  if (email.length > USER_EMAIL_MAX_CHARS) return `must be at most ${USER_EMAIL_MAX_CHARS} characters`;
  if (!EMAIL_PATTERN.test(email)) return 'is not an email address';
  return null;
}
