import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  LIFECYCLE_VERSIONS_KEYS_DEFAULT,
  LIFECYCLE_VERSIONS_KEYS_MAX,
  MetadataErrorCodes,
  metadataPattern,
  MetadataRpc,
  type ListLifecycleVersionsReply,
  type ListLifecycleVersionsRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { MetadataError } from '../domain/shared/metadata.errors';
import { CHECKPOINT_NAMES } from '../projections/projection-streams';
import { ProjectionTracker } from '../projections/projection-tracker';
import { body } from '../shared/rpc-request';
import { LifecycleVersionQueries } from './lifecycle-versions.queries';

const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;

/** lifecycle.versions: what the scheduler's lifecycle pass judges, a page of whole keys at a time. */
@Controller()
export class LifecycleRpcController {
  constructor(
    private readonly readModel: MetadataReadModel,
    private readonly projection: ProjectionTracker,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.listLifecycleVersions))
  async listLifecycleVersions(@Payload() r: ListLifecycleVersionsRequest): Promise<ListLifecycleVersionsReply> {
    const { bucket } = body(r);
    if (typeof bucket !== 'string' || bucket.length === 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a bucket is required');
    const after = r.afterKeyId ?? null;
    if (after !== null && !KEY_ID_PATTERN.test(after)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'afterKeyId is 64 lowercase hex digits');
    const limit = r.limit ?? LIFECYCLE_VERSIONS_KEYS_DEFAULT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIFECYCLE_VERSIONS_KEYS_MAX) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `limit is 1 to ${LIFECYCLE_VERSIONS_KEYS_MAX}`);
    }
    await this.projection.waitFor('META', r.minSequence);
    const queries = await this.readModel.queries(LifecycleVersionQueries);
    return queries.listLifecycleVersions(bucket, after, limit, CHECKPOINT_NAMES.META);
  }
}
