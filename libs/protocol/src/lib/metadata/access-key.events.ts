/**
 * An access key's secret as events and the read model hold it. SigV4 needs the secret itself to
 * recompute signatures, so it cannot be hashed; it is sealed instead: AES-256-GCM under the region
 * master key version `keyId` (the keyring, docs/encryption.md), bound to the key's id. Plaintext
 * only in a region without a master key, and in events written before secrets were sealed (their
 * projection seals them as it replays them, once the region has a master key).
 */
export type AccessKeySecret =
  | { readonly kind: 'sealed'; readonly keyId: string; readonly ciphertext: string }
  | { readonly kind: 'plaintext'; readonly value: string };

export interface AccessKeyCreated {
  readonly type: 'AccessKeyCreated';
  readonly data: {
    readonly accessKeyId: string;
    /** Version 2 held the plaintext as `secretAccessKey`; it is upcast to `{ kind: 'plaintext' }`. */
    readonly secret: AccessKeySecret;
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

/**
 * A key's secret sealed again under another master key version (after a rotation): the same
 * plaintext, a new ciphertext and key id. The key's id, owner and state do not change.
 */
export interface AccessKeySecretResealed {
  readonly type: 'AccessKeySecretResealed';
  readonly data: { readonly accessKeyId: string; readonly secret: AccessKeySecret; readonly resealedAt: string };
}

export type AccessKeyEvent = AccessKeyCreated | AccessKeyRevoked | AccessKeySecretResealed;
