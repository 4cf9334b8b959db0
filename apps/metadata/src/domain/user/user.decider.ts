import { canonicalIdOf, emailProblem, MetadataErrorCodes, ownerNameProblem, USER_DISPLAY_NAME_MAX_CHARS, type UserEvent } from '@cairn/protocol';
import { assertNever, type Decider } from '@cairn/eventing';
import { MetadataError } from '../shared/metadata.errors';

/* The user aggregate (one subject per user name): created once; its canonical id follows from its name. */

export interface CreateUser {
  readonly type: 'CreateUser';
  readonly user: string;
  readonly displayName?: string;
  readonly email?: string;
  readonly createdAt: string;
}

export type UserCommand = CreateUser;

export type UserState = { readonly status: 'absent' } | { readonly status: 'created'; readonly user: string; readonly canonicalId: string; readonly displayName: string; readonly email?: string };

const DISPLAY_NAME_PATTERN = /^[^\p{C}]+$/u;

export const userDecider: Decider<UserCommand, UserEvent, UserState> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'CreateUser': {
        const nameProblem = ownerNameProblem(command.user);
        if (nameProblem !== null) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `the user name ${JSON.stringify(command.user)} ${nameProblem}`);
        const displayName = command.displayName ?? command.user;
        if (displayName.length > USER_DISPLAY_NAME_MAX_CHARS || !DISPLAY_NAME_PATTERN.test(displayName) || displayName.trim() !== displayName) {
          throw new MetadataError(MetadataErrorCodes.InvalidArgument, `a display name is 1 to ${USER_DISPLAY_NAME_MAX_CHARS} printable characters without surrounding spaces`);
        }
        const email = command.email?.toLowerCase();
        if (email !== undefined) {
          const problem = emailProblem(email);
          if (problem !== null) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `the email ${JSON.stringify(command.email)} ${problem}`);
        }
        if (state.status === 'created') throw new MetadataError(MetadataErrorCodes.UserAlreadyExists, `user ${command.user} already exists`);
        return [
          {
            type: 'UserCreated',
            data: { user: command.user, canonicalId: canonicalIdOf(command.user), displayName, ...(email !== undefined ? { email } : {}), createdAt: command.createdAt },
          },
        ];
      }
      default:
        return assertNever(command as never, 'user command');
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'UserCreated': {
        const d = event.data;
        return { status: 'created', user: d.user, canonicalId: d.canonicalId, displayName: d.displayName, ...(d.email !== undefined ? { email: d.email } : {}) };
      }
      default:
        return assertNever(event as never, 'user event');
    }
  },
};
