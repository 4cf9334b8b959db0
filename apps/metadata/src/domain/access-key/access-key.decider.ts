import { canonicalIdOf, MetadataErrorCodes, ownerNameProblem, type AccessKeySecret } from '@cairn/protocol';
import { assertNever, type Decider } from '@cairn/eventing';
import { MetadataError } from '../shared/metadata.errors';
import { requireText } from '../shared/validation';
import type { AccessKeyCommand } from './access-key.commands';
import type { AccessKeyEvent } from './access-key.events';

/** AWS access key ids are 16 to 128 uppercase letters and digits. */
const ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;
const SECRET_MIN_CHARS = 8;
const SECRET_MAX_CHARS = 128;
const SECRET_PATTERN = /^\S+$/;

export type AccessKeyState =
  | { readonly status: 'absent' }
  | {
      readonly status: 'active' | 'revoked';
      readonly accessKeyId: string;
      readonly owner: string;
      /** The master key version the secret is sealed under; null while it is plaintext. */
      readonly secretKeyId: string | null;
    };

export const accessKeyDecider: Decider<AccessKeyCommand, AccessKeyEvent, AccessKeyState> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'CreateAccessKey': {
        if (!ACCESS_KEY_ID_PATTERN.test(command.accessKeyId)) {
          throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'an access key id is 16 to 128 uppercase letters and digits');
        }
        const secret = command.secretAccessKey;
        if (secret.length < SECRET_MIN_CHARS || secret.length > SECRET_MAX_CHARS || !SECRET_PATTERN.test(secret)) {
          throw new MetadataError(MetadataErrorCodes.InvalidArgument, `a secret key is ${SECRET_MIN_CHARS} to ${SECRET_MAX_CHARS} characters without spaces`);
        }
        requireText(command.owner, 'the owner');
        const ownerProblem = ownerNameProblem(command.owner);
        if (ownerProblem !== null) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `the owner ${JSON.stringify(command.owner)} ${ownerProblem}`);
        // A revoked id stays taken: a signature made with the old secret must never verify again.
        if (state.status !== 'absent') {
          throw new MetadataError(MetadataErrorCodes.AccessKeyAlreadyExists, `access key ${command.accessKeyId} already exists`);
        }
        return [
          {
            type: 'AccessKeyCreated',
            data: { accessKeyId: command.accessKeyId, secret: command.secret, owner: command.owner, canonicalId: canonicalIdOf(command.owner), createdAt: command.createdAt },
          },
        ];
      }
      case 'RevokeAccessKey':
        if (state.status === 'absent') {
          throw new MetadataError(MetadataErrorCodes.InvalidAccessKeyId, `access key ${command.accessKeyId} does not exist`);
        }
        if (state.status === 'revoked') return [];
        return [{ type: 'AccessKeyRevoked', data: { accessKeyId: command.accessKeyId, revokedAt: command.revokedAt } }];
      case 'ResealAccessKeySecret': {
        if (state.status === 'absent') {
          throw new MetadataError(MetadataErrorCodes.InvalidAccessKeyId, `access key ${command.accessKeyId} does not exist`);
        }
        if (command.secret.kind !== 'sealed') throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a secret is resealed only into a sealed one');
        // Sealed under that version already (a rerun, or a racing reseal): nothing to do.
        if (state.secretKeyId === command.secret.keyId) return [];
        return [{ type: 'AccessKeySecretResealed', data: { accessKeyId: command.accessKeyId, secret: command.secret, resealedAt: command.resealedAt } }];
      }
      default:
        return assertNever(command, 'access key command');
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'AccessKeyCreated':
        return { status: 'active', accessKeyId: event.data.accessKeyId, owner: event.data.owner, secretKeyId: secretKeyIdOf(event.data.secret) };
      case 'AccessKeyRevoked':
        if (state.status === 'absent') throw new Error(`AccessKeyRevoked for ${event.data.accessKeyId}, which was never created`);
        return { ...state, status: 'revoked' };
      case 'AccessKeySecretResealed':
        if (state.status === 'absent') throw new Error(`AccessKeySecretResealed for ${event.data.accessKeyId}, which was never created`);
        return { ...state, secretKeyId: secretKeyIdOf(event.data.secret) };
      default:
        return assertNever(event, 'access key event');
    }
  },
};

function secretKeyIdOf(secret: AccessKeySecret): string | null {
  return secret.kind === 'sealed' ? secret.keyId : null;
}
