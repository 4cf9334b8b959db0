import type { AccessKeySecret } from '@cairn/protocol';

/* The access key decider's commands: metadata's own (the shell builds them from RPC requests); they never cross a service boundary. */

export interface CreateAccessKey {
  readonly type: 'CreateAccessKey';
  readonly accessKeyId: string;
  /** The plaintext, checked here and never recorded. */
  readonly secretAccessKey: string;
  /** What the event records: the secret as the shell sealed it (AccessKeySecrets). */
  readonly secret: AccessKeySecret;
  readonly owner: string;
  readonly createdAt: string;
}

export interface RevokeAccessKey {
  readonly type: 'RevokeAccessKey';
  readonly accessKeyId: string;
  readonly revokedAt: string;
}

/** The key's secret sealed again (the shell opened the stored one and sealed it under the current master version). */
export interface ResealAccessKeySecret {
  readonly type: 'ResealAccessKeySecret';
  readonly accessKeyId: string;
  readonly secret: AccessKeySecret;
  readonly resealedAt: string;
}

export type AccessKeyCommand = CreateAccessKey | RevokeAccessKey | ResealAccessKeySecret;
