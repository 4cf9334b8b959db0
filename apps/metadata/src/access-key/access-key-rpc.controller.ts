import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  MetadataErrorCodes,
  metadataPattern,
  MetadataRpc,
  type AccessKeyView,
  type CreateAccessKeyRequest,
  type GetAccessKeyRequest,
  type ListAccessKeysReply,
  type ListAccessKeysRequest,
  type RevokeAccessKeyRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ProjectionTracker } from '../projections/projection-tracker';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { body, readCatchingUp } from '../shared/rpc-request';
import { AccessKeyCommandsHandler, requireAccessKeyId } from './access-key-commands.handler';
import { AccessKeyQueries } from './access-key.queries';

/** The access-key RPCs of the contract in libs/protocol (metadata.rpc.ts): commands, then read-your-writes queries. */
@Controller()
export class AccessKeyRpcController {
  constructor(
    private readonly accessKeys: AccessKeyCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
    private readonly context: MetadataCommandContext,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.createAccessKey))
  createAccessKey(@Payload() r: CreateAccessKeyRequest) {
    return this.accessKeys.create(body(r).owner);
  }

  @MessagePattern(metadataPattern(MetadataRpc.revokeAccessKey))
  revokeAccessKey(@Payload() r: RevokeAccessKeyRequest) {
    return this.accessKeys.revoke(body(r).accessKeyId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.resealAccessKeys))
  async resealAccessKeys() {
    return this.accessKeys.resealAll(await this.readModel.queries(AccessKeyQueries));
  }

  @MessagePattern(metadataPattern(MetadataRpc.getAccessKey))
  async getAccessKey(@Payload() r: GetAccessKeyRequest): Promise<AccessKeyView> {
    requireAccessKeyId(body(r).accessKeyId);
    await this.projection.waitFor('META', r.minSequence);
    const queries = await this.readModel.queries(AccessKeyQueries);
    const view = await readCatchingUp(this.context, this.projection, this.context.subjects.accessKey(r.accessKeyId), () => queries.getAccessKey(r.accessKeyId));
    if (!view) throw new MetadataError(MetadataErrorCodes.InvalidAccessKeyId, `access key ${r.accessKeyId} does not exist`);
    return view;
  }

  @MessagePattern(metadataPattern(MetadataRpc.listAccessKeys))
  async listAccessKeys(@Payload() r: ListAccessKeysRequest | null): Promise<ListAccessKeysReply> {
    await this.projection.waitFor('META', r?.minSequence);
    return { accessKeys: await (await this.readModel.queries(AccessKeyQueries)).listAccessKeys(r?.owner) };
  }
}
