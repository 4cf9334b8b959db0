import { assertNever } from '@cairn/eventing';
import type { AccessKeyEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import { eventTypes, type MetadataProjectionPart } from '../projections/projection-part';
import type { AccessKeySecrets } from './access-key-secrets';

/** access_keys: every key ever created; a revoked one keeps its row (its id stays taken). */
export class AccessKeyProjection implements MetadataProjectionPart<AccessKeyEvent> {
  readonly handles = eventTypes<AccessKeyEvent>({ AccessKeyCreated: true, AccessKeyRevoked: true, AccessKeySecretResealed: true });

  /** `secrets`: seals a plaintext secret (an event from before sealing) as it is projected; absent: rows as the events say. */
  constructor(
    private readonly t: (table: string) => string,
    private readonly secrets?: AccessKeySecrets,
  ) {}

  async apply(tx: EntityManager, event: AccessKeyEvent): Promise<void> {
    switch (event.type) {
      case 'AccessKeyCreated': {
        const d = event.data;
        const secret = this.secrets ? this.secrets.atRest(d.accessKeyId, d.secret) : d.secret;
        const sealed = secret.kind === 'sealed' ? secret : undefined;
        await tx.query(
          `INSERT INTO ${this.t('access_keys')} (access_key_id, secret_access_key, sealed_secret, secret_key_id, owner, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz, NULL)`,
          [d.accessKeyId, secret.kind === 'plaintext' ? secret.value : null, sealed?.ciphertext ?? null, sealed?.keyId ?? null, d.owner, d.createdAt],
        );
        return;
      }
      case 'AccessKeyRevoked':
        await tx.query(`UPDATE ${this.t('access_keys')} SET revoked_at = $2::timestamptz WHERE access_key_id = $1`, [event.data.accessKeyId, event.data.revokedAt]);
        return;
      case 'AccessKeySecretResealed': {
        const { secret } = event.data;
        if (secret.kind !== 'sealed') return;
        await tx.query(`UPDATE ${this.t('access_keys')} SET sealed_secret = $2, secret_key_id = $3, secret_access_key = NULL WHERE access_key_id = $1`, [
          event.data.accessKeyId,
          secret.ciphertext,
          secret.keyId,
        ]);
        return;
      }
      default:
        return assertNever(event, 'access key event');
    }
  }
}
