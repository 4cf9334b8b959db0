import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  MetadataErrorCodes,
  ROOT_ACCESS_KEY_OWNER,
  ownerNameProblem,
  type CreateAccessKeyReply,
  type ResealAccessKeysReply,
  type RevokeAccessKeyReply,
} from '@cairn/protocol';
import { accessKeyDecider } from '../domain/access-key/access-key.decider';
import { MetadataError } from '../domain/shared/metadata.errors';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import type { AccessKeyCommand } from '../domain/access-key/access-key.commands';
import { UserCommandsHandler } from '../user/user-commands.handler';
import { AccessKeySecrets } from './access-key-secrets';
import type { AccessKeyQueries } from './access-key.queries';

const ACCESS_KEY_ID_PREFIX = 'CK';
const ACCESS_KEY_ID_RANDOM_CHARS = 18;
const SECRET_RANDOM_BYTES = 30;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Access key ids become a subject token; the decider checks the full AWS form. */
const ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;

@Injectable()
export class AccessKeyCommandsHandler {
  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly users: UserCommandsHandler,
    private readonly secrets: AccessKeySecrets,
  ) {}

  /** A new key with a generated id and secret; the secret is in this reply and nowhere else the caller sees. */
  async create(owner: string): Promise<CreateAccessKeyReply> {
    if (owner === ROOT_ACCESS_KEY_OWNER) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${ROOT_ACCESS_KEY_OWNER}" keys come only from CAIRN_ROOT_ACCESS_KEY`);
    }
    // Every key acts for a user: one is created (its name as display name) if the owner is new.
    if (ownerNameProblem(owner) === null) await this.users.ensure(owner);
    return this.createWith(generateAccessKeyId(), randomBytes(SECRET_RANDOM_BYTES).toString('base64url'), owner);
  }

  async createWith(accessKeyId: string, secretAccessKey: string, owner: string): Promise<CreateAccessKeyReply> {
    requireAccessKeyId(accessKeyId);
    const createdAt = this.ctx.nowIso();
    const handled = await this.execute({ type: 'CreateAccessKey', accessKeyId, secretAccessKey, secret: this.secrets.seal(accessKeyId, secretAccessKey), owner, createdAt });
    return { sequence: handled.sequence, accessKeyId, secretAccessKey, owner, createdAt };
  }

  async revoke(accessKeyId: string): Promise<RevokeAccessKeyReply> {
    requireAccessKeyId(accessKeyId);
    const handled = await this.execute({ type: 'RevokeAccessKey', accessKeyId, revokedAt: this.ctx.nowIso() });
    return { sequence: handled.sequence };
  }

  /**
   * After a master key rotation: every key whose row is not sealed under the current master version
   * is opened and sealed again under it (AccessKeySecretResealed, decided once per key and version).
   * Runs of more than ACCESS_KEYS_LIST_MAX keys are finished by running it again.
   */
  async resealAll(queries: AccessKeyQueries): Promise<ResealAccessKeysReply> {
    const version = this.secrets.currentVersion;
    if (version === undefined) throw new MetadataError(MetadataErrorCodes.InvalidRequest, 'metadata has no keyring (CAIRN_MASTER_KEY_FILE): there is nothing to seal under');
    const stale = await queries.secretsNotSealedUnder(version);
    let resealed = 0;
    for (const { accessKeyId, secret: stored } of stale) {
      const secret = this.secrets.resealed(accessKeyId, stored);
      if (secret === undefined) continue;
      const handled = await this.execute({ type: 'ResealAccessKeySecret', accessKeyId, secret, resealedAt: this.ctx.nowIso() });
      if (handled.events.length > 0) resealed++;
    }
    return { version, scanned: stale.length, resealed };
  }

  private execute(command: AccessKeyCommand) {
    return this.ctx.run(accessKeyDecider, this.ctx.subjects.accessKey(command.accessKeyId), command.accessKeyId, command);
  }
}

function generateAccessKeyId(): string {
  const bytes = randomBytes(ACCESS_KEY_ID_RANDOM_CHARS);
  return ACCESS_KEY_ID_PREFIX + [...bytes].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

export function requireAccessKeyId(accessKeyId: unknown): asserts accessKeyId is string {
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID_PATTERN.test(accessKeyId)) {
    throw new MetadataError(MetadataErrorCodes.InvalidAccessKeyId, `"${String(accessKeyId)}" is not an access key id`);
  }
}
