import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  isEventEnvelope,
  MetadataErrorCodes,
  metadataPattern,
  MetadataRpc,
  REPLICATED_BUCKET_EVENT_TYPES,
  REPLICATED_OBJECT_EVENT_TYPES,
  type ApplyReplicatedReply,
  type ApplyReplicatedRequest,
  type BucketEvent,
  type ObjectKeyEvent,
  type ReplicationConfig,
} from '@cairn/protocol';
import { decided } from '../shared/metadata-command-context';
import { MetadataError } from '../domain/shared/metadata.errors';
import { BucketCommandsHandler } from '../bucket/bucket-commands.handler';
import { ObjectCommandsHandler } from '../object-key/object-commands.handler';
import { body } from '../shared/rpc-request';
import { bucketCommandFor } from './replicated-bucket-change';

const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Sync applies other regions' changes of replicated buckets here (MetadataRpc.applyReplicated). */
@Controller()
export class ReplicationRpcController {
  constructor(
    private readonly buckets: BucketCommandsHandler,
    private readonly objects: ObjectCommandsHandler,
  ) {}

  /** Read from the bucket's subject: the projection may not have the change that made it replicated yet. */
  @MessagePattern(metadataPattern(MetadataRpc.bucketReplication))
  async bucketReplication(@Payload() payload: { bucket?: unknown }): Promise<{ replication: ReplicationConfig | null }> {
    const { bucket } = body(payload);
    if (typeof bucket !== 'string') throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'bucket must be a bucket name');
    const read = await this.buckets.read(bucket);
    return { replication: read.state.status === 'live' ? read.state.replication : null };
  }

  @MessagePattern(metadataPattern(MetadataRpc.applyReplicated))
  async apply(@Payload() payload: ApplyReplicatedRequest): Promise<ApplyReplicatedReply> {
    const { sourceRegion, envelope } = body(payload);
    if (typeof sourceRegion !== 'string' || !REGION_PATTERN.test(sourceRegion)) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'sourceRegion must be a region name');
    }
    if (!isEventEnvelope(envelope) || typeof envelope.data !== 'object' || envelope.data === null) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'envelope must be an event envelope');
    }
    if (REPLICATED_BUCKET_EVENT_TYPES.has(envelope.type)) {
      const command = bucketCommandFor({ type: envelope.type, data: envelope.data } as BucketEvent);
      if (command === null) return { applied: false, sequence: 0 };
      try {
        const handled = await this.buckets.execute(command, sourceRegion);
        return { applied: handled.events.length > 0, sequence: handled.sequence };
      } catch (error) {
        // The bucket is here already (created in both regions, or applied before): nothing to do.
        const code = (error as { code?: string }).code;
        if (command.type === 'CreateBucket' && (code === MetadataErrorCodes.BucketAlreadyExists || code === MetadataErrorCodes.BucketAlreadyOwnedByYou)) {
          return { applied: false, sequence: 0 };
        }
        throw error;
      }
    }
    if (REPLICATED_OBJECT_EVENT_TYPES.has(envelope.type)) {
      const handled = await this.objects.applyReplicated(sourceRegion, envelope);
      const conflict = decided<ObjectKeyEvent, 'ConflictResolved'>(handled.events, 'ConflictResolved');
      return { applied: handled.events.length > 0, sequence: handled.sequence, ...(conflict ? { conflictId: conflict.conflictId } : {}) };
    }
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `${envelope.type} events do not replicate`);
  }
}
