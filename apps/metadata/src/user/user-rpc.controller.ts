import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MetadataErrorCodes, metadataPattern, MetadataRpc, type CreateUserRequest, type GetUserRequest, type ListUsersReply, type ListUsersRequest, type UserView } from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ProjectionTracker } from '../projections/projection-tracker';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { body, readCatchingUp } from '../shared/rpc-request';
import { UserCommandsHandler } from './user-commands.handler';
import { UserQueries } from './user.queries';

/** The user RPCs of the contract (user-access.rpc.ts): create, get by name / canonical id / email, list. */
@Controller()
export class UserRpcController {
  constructor(
    private readonly users: UserCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
    private readonly context: MetadataCommandContext,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.createUser))
  createUser(@Payload() r: CreateUserRequest) {
    return this.users.create(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.getUser))
  async getUser(@Payload() r: GetUserRequest): Promise<UserView> {
    const request = body(r);
    await this.projection.waitFor('META', request.minSequence);
    const queries = await this.readModel.queries(UserQueries);
    let view: UserView | null;
    if (typeof request.user === 'string') {
      const name = request.user;
      view = await readCatchingUp(this.context, this.projection, this.context.subjects.user(name), () => queries.byName(name));
    } else if (typeof request.canonicalId === 'string') view = await queries.byCanonicalId(request.canonicalId);
    else if (typeof request.email === 'string') view = await queries.byEmail(request.email);
    else throw new MetadataError(MetadataErrorCodes.InvalidRequest, 'name a user, canonicalId or email');
    if (!view) throw new MetadataError(MetadataErrorCodes.NoSuchUser, 'no such user');
    return view;
  }

  @MessagePattern(metadataPattern(MetadataRpc.listUsers))
  async listUsers(@Payload() r: ListUsersRequest | null): Promise<ListUsersReply> {
    await this.projection.waitFor('META', r?.minSequence);
    return { users: await (await this.readModel.queries(UserQueries)).list() };
  }
}
