export interface AccessKeyCreated {
  readonly type: 'AccessKeyCreated';
  readonly data: {
    readonly accessKeyId: string;
    /** SigV4 needs the secret itself to recompute signatures, so it is stored, not hashed. */
    readonly secretAccessKey: string;
    /** The name of the user the key acts for. */
    readonly owner: string;
    /** That user's canonical id (canonicalIdOf(owner); version 1 events are upcast with it). */
    readonly canonicalId: string;
    readonly createdAt: string;
  };
}

export interface AccessKeyRevoked {
  readonly type: 'AccessKeyRevoked';
  readonly data: { readonly accessKeyId: string; readonly revokedAt: string };
}

export type AccessKeyEvent = AccessKeyCreated | AccessKeyRevoked;
