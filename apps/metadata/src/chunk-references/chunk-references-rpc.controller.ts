import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CairnError, ErrorCodes, metadataPattern, MetadataRpc, type ListChunkReferencesReply, type ListChunkReferencesRequest, type StorageCapacityReply } from '@cairn/protocol';
import { SERVICE_CONFIG } from '@cairn/service-kit';
import { StorageCapacityQueries } from '../capacity/storage-capacity.queries';
import type { MetadataConfig } from '../metadata.config';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { CHECKPOINT_NAMES } from '../projections/projection-streams';
import { ProjectionTracker } from '../projections/projection-tracker';
import { chunkReferenceRange } from './chunk-reference-range';
import { ChunkReferenceQueries } from './chunk-references.queries';

/** chunk.references: every chunk versions and uploads name, for garbage collection and repair. */
@Controller()
export class ChunkReferencesRpcController {
  constructor(
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
    @Inject(SERVICE_CONFIG) private readonly config: MetadataConfig,
  ) {}

  /**
   * Waits for the sequence META has reached on arrival rather than a caller's: garbage collection
   * takes a chunk missing here for unreferenced, so no reference acknowledged before may be missed.
   */
  @MessagePattern(metadataPattern(MetadataRpc.listChunkReferences))
  async listChunkReferences(@Payload() r: ListChunkReferencesRequest | null): Promise<ListChunkReferencesReply> {
    const range = chunkReferenceRange(r);
    const arrivedAt = await this.projection.lastSequence('META');
    await this.projection.waitFor('META', arrivedAt);
    const page = await (await this.readModel.queries(ChunkReferenceQueries)).listChunkReferences(range, CHECKPOINT_NAMES.META, this.config.CAIRN_REPLICATION_FACTOR);
    // Checkpoints only grow, and waitFor saw one at or past arrivedAt committed before the snapshot.
    if (page.asOfSequence < arrivedAt) {
      throw new CairnError(ErrorCodes.Internal, `chunk references read as of META ${page.asOfSequence}, before ${arrivedAt} which the projection had reached`);
    }
    return { ...page, regionReplicationFactor: this.config.CAIRN_REPLICATION_FACTOR };
  }

  /** capacity.classes: bytes per storage class, logical and on the nodes (docs/storage-classes.md), as of the projection now. */
  @MessagePattern(metadataPattern(MetadataRpc.storageCapacity))
  async storageCapacity(): Promise<StorageCapacityReply> {
    return (await this.readModel.queries(StorageCapacityQueries)).byClass(CHECKPOINT_NAMES.META, this.config.CAIRN_REPLICATION_FACTOR);
  }
}
