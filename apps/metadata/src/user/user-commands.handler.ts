import { Injectable } from '@nestjs/common';
import { MetadataErrorCodes, ROOT_ACCESS_KEY_OWNER, type CreateUserReply, type CreateUserRequest } from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { userDecider } from '../domain/user/user.decider';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ProjectionTracker } from '../projections/projection-tracker';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { UserQueries } from './user.queries';

/** Creates users (their own subject each); access keys name them as their owner. */
@Injectable()
export class UserCommandsHandler {
  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
  ) {}

  async create(request: CreateUserRequest): Promise<CreateUserReply> {
    if (request.user === ROOT_ACCESS_KEY_OWNER) throw new MetadataError(MetadataErrorCodes.UserAlreadyExists, `"${ROOT_ACCESS_KEY_OWNER}" is the bootstrapped administrator`);
    const email = request.email?.toLowerCase();
    if (email !== undefined) {
      // One email names one user: an emailAddress grant must resolve to exactly one account.
      await this.projection.waitFor('META', undefined);
      const holder = await (await this.readModel.queries(UserQueries)).byEmail(email);
      if (holder !== null && holder.user !== request.user) throw new MetadataError(MetadataErrorCodes.UserAlreadyExists, `the email ${email} belongs to another user`);
    }
    const createdAt = this.ctx.nowIso();
    const handled = await this.ctx.run(userDecider, this.ctx.subjects.user(request.user), request.user, {
      type: 'CreateUser',
      user: request.user,
      ...(request.displayName !== undefined ? { displayName: request.displayName } : {}),
      ...(email !== undefined ? { email } : {}),
      createdAt,
    });
    const state = handled.state;
    if (state.status !== 'created') throw new Error(`user ${request.user} not created`);
    return {
      sequence: handled.sequence,
      user: { user: state.user, canonicalId: state.canonicalId, displayName: state.displayName, email: state.email ?? null, createdAt },
    };
  }

  /** Creates the user with its name as display name unless it exists: a key's owner is always a user. */
  async ensure(user: string): Promise<void> {
    if (user === ROOT_ACCESS_KEY_OWNER) return;
    const read = await this.ctx.load(userDecider, this.ctx.subjects.user(user));
    if (read.state.status === 'created') return;
    try {
      await this.ctx.run(userDecider, this.ctx.subjects.user(user), user, { type: 'CreateUser', user, createdAt: this.ctx.nowIso() });
    } catch (error) {
      if (!(error instanceof MetadataError && error.code === MetadataErrorCodes.UserAlreadyExists)) throw error;
    }
  }
}
