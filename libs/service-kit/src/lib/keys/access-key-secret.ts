import type { AccessKeySecret } from '@cairn/protocol';
import type { KeyService } from './key-service';

/*
 * Access-key secrets at rest (docs/encryption.md): sealed with AES-256-GCM under the region master
 * key's current version, the version recorded beside the ciphertext so that rotation keeps older
 * secrets opening. The additional data names the access key, so a sealed secret copied onto another
 * key's row does not open there.
 */

const purposeOf = (accessKeyId: string) => `cairn access-key secret v1\0${accessKeyId}`;

/** The secret sealed under the current master key version. */
export function sealAccessKeySecret(keys: KeyService, accessKeyId: string, secret: string): AccessKeySecret {
  const keyId = keys.currentMasterVersion;
  return { kind: 'sealed', keyId, ciphertext: keys.wrapWithMaster(Buffer.from(secret, 'utf8'), purposeOf(accessKeyId), keyId) };
}

/**
 * The plaintext of a stored secret: opened with the master version that sealed it. A sealed secret
 * without a keyring, or with another region's, throws: it is never mistaken for a wrong signature.
 */
export function openAccessKeySecret(keys: KeyService | undefined, accessKeyId: string, secret: AccessKeySecret): string {
  if (secret.kind === 'plaintext') return secret.value;
  if (keys === undefined) throw new Error(`access key ${accessKeyId} has a sealed secret and this service has no master key (CAIRN_MASTER_KEY_FILE)`);
  return keys.unwrapWithMaster(secret.ciphertext, purposeOf(accessKeyId), secret.keyId).toString('utf8');
}
