import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  MetadataErrorCodes,
  ROOT_ACCESS_KEY_OWNER,
  ownerNameProblem,
  type CreateAccessKeyReply,
  type RevokeAccessKeyReply,
} from '@cairn/protocol';
import { accessKeyDecider } from '../domain/access-key/access-key.decider';
import { MetadataError } from '../domain/shared/metadata.errors';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import type { AccessKeyCommand } from '../domain/access-key/access-key.commands';
import { UserCommandsHandler } from '../user/user-commands.handler';
import { AccessKeySecrets } from './access-key-secrets';

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
