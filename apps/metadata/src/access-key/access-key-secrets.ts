import { Logger } from '@nestjs/common';
import type { AccessKeySecret } from '@cairn/protocol';
import { KeyService, openAccessKeySecret, sealAccessKeySecret } from '@cairn/service-kit';
import type { MetadataConfig } from '../metadata.config';

/**
 * Where metadata seals access-key secrets (docs/encryption.md): under the region master key when
 * the service has the keyring, so events and the access_keys table hold only ciphertext and the
 * master key version; as sent otherwise. Metadata never opens them: the gateway does, in memory,
 * for SigV4.
 */
export class AccessKeySecrets {
  constructor(private readonly keys: KeyService | undefined) {}

  static fromConfig(config: Pick<MetadataConfig, 'CAIRN_MASTER_KEY_FILE' | 'CAIRN_MASTER_KEY_CREATE'>): AccessKeySecrets {
    if (config.CAIRN_MASTER_KEY_FILE === '') {
      new Logger('AccessKeySecrets').warn('no CAIRN_MASTER_KEY_FILE: access-key secrets are stored unsealed (docs/encryption.md)');
      return new AccessKeySecrets(undefined);
    }
    return new AccessKeySecrets(KeyService.open(config.CAIRN_MASTER_KEY_FILE, { create: config.CAIRN_MASTER_KEY_CREATE }));
  }

  /** A new key's secret as it is stored. */
  seal(accessKeyId: string, secret: string): AccessKeySecret {
    return this.keys === undefined ? { kind: 'plaintext', value: secret } : sealAccessKeySecret(this.keys, accessKeyId, secret);
  }

  /** The master key version new secrets are sealed under; undefined without a keyring. */
  get currentVersion(): string | undefined {
    return this.keys?.currentMasterVersion;
  }

  /** A stored secret sealed again under the current master version; undefined when it is already (or there is no keyring). */
  resealed(accessKeyId: string, stored: AccessKeySecret): AccessKeySecret | undefined {
    if (this.keys === undefined) return undefined;
    if (stored.kind === 'sealed' && stored.keyId === this.keys.currentMasterVersion) return undefined;
    return sealAccessKeySecret(this.keys, accessKeyId, openAccessKeySecret(this.keys, accessKeyId, stored));
  }

  /** A stored secret as the read model keeps it: a plaintext one (an older event) sealed when the region has a master key. */
  atRest(accessKeyId: string, secret: AccessKeySecret): AccessKeySecret {
    return secret.kind === 'plaintext' ? this.seal(accessKeyId, secret.value) : secret;
  }
}
