import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { metadataPattern, MetadataRpc, type ListConflictsReply, type ListConflictsRequest } from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { ProjectionTracker } from '../projections/projection-tracker';
import { body } from '../shared/rpc-request';
import { ConflictLogQueries, conflictWindowOf } from './conflict-log.queries';

/** MetadataRpc.listConflicts: a bucket's conflict log, read your writes with minSequence like the other queries. */
@Controller()
export class ConflictLogRpcController {
  constructor(
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.listConflicts))
  async listConflicts(@Payload() r: ListConflictsRequest): Promise<ListConflictsReply> {
    const window = conflictWindowOf(body(r));
    await this.projection.waitFor('META', r.minSequence);
    return (await this.readModel.queries(ConflictLogQueries)).listConflicts(String(r.bucket), window);
  }
}
