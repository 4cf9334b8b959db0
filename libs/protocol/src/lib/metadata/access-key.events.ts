export interface AccessKeyCreated {
  readonly type: 'AccessKeyCreated';
  readonly data: {
    readonly accessKeyId: string;
    /** SigV4 needs the secret itself to recompute signatures, so it is stored, not hashed. */
    readonly secretAccessKey: string;
    readonly owner: string;
    readonly createdAt: string;
  };
}

export interface AccessKeyRevoked {
  readonly type: 'AccessKeyRevoked';
  readonly data: { readonly accessKeyId: string; readonly revokedAt: string };
}

export type AccessKeyEvent = AccessKeyCreated | AccessKeyRevoked;
