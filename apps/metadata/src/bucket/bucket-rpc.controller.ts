import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  bucketNameProblem,
  MetadataErrorCodes,
  metadataPattern,
  MetadataRpc,
  type BucketView,
  type CommandReply,
  type CreateBucketRequest,
  type DeleteBucketRequest,
  type DeleteBucketCorsRequest,
  type DeleteBucketLifecycleRequest,
  type DeleteBucketPolicyRequest,
  type DeleteBucketTagsRequest,
  type GetBucketRequest,
  type ListBucketsReply,
  type ListBucketsRequest,
  type PutBucketCorsRequest,
  type PutBucketLifecycleRequest,
  type PutBucketPolicyRequest,
  type PutBucketTagsRequest,
  type SetBucketDefaultStorageClassRequest,
  type SetBucketReplicationRequest,
  type SetBucketVersioningRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ProjectionTracker } from '../projections/projection-tracker';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { body, readCatchingUp } from '../shared/rpc-request';
import { BucketCommandsHandler } from './bucket-commands.handler';
import { BucketQueries } from './bucket.queries';

/** The bucket RPCs of the contract in libs/protocol (metadata.rpc.ts): commands, then read-your-writes queries. */
@Controller()
export class BucketRpcController {
  constructor(
    private readonly buckets: BucketCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
    private readonly context: MetadataCommandContext,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.createBucket))
  createBucket(@Payload() r: CreateBucketRequest) {
    return this.buckets.create(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucket))
  deleteBucket(@Payload() r: DeleteBucketRequest) {
    return this.buckets.delete(body(r).bucket);
  }

  @MessagePattern(metadataPattern(MetadataRpc.setBucketVersioning))
  setBucketVersioning(@Payload() r: SetBucketVersioningRequest) {
    return this.buckets.setVersioning(body(r).bucket, r.versioning);
  }

  @MessagePattern(metadataPattern(MetadataRpc.setBucketReplication))
  async setBucketReplication(@Payload() r: SetBucketReplicationRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'SetBucketReplication', bucket: body(r).bucket, replication: r.replication });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.setBucketDefaultStorageClass))
  async setBucketDefaultStorageClass(@Payload() r: SetBucketDefaultStorageClassRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'SetBucketDefaultStorageClass', bucket: body(r).bucket, defaultStorageClass: r.defaultStorageClass });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putBucketTags))
  async putBucketTags(@Payload() r: PutBucketTagsRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketTags', bucket: body(r).bucket, tags: r.tags ?? [] });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketTags))
  async deleteBucketTags(@Payload() r: DeleteBucketTagsRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketTags', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putBucketPolicy))
  async putBucketPolicy(@Payload() r: PutBucketPolicyRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketPolicy', bucket: body(r).bucket, policy: r.policy });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketPolicy))
  async deleteBucketPolicy(@Payload() r: DeleteBucketPolicyRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketPolicy', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putBucketCors))
  async putBucketCors(@Payload() r: PutBucketCorsRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketCors', bucket: body(r).bucket, cors: r.cors });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketCors))
  async deleteBucketCors(@Payload() r: DeleteBucketCorsRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketCors', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putBucketLifecycle))
  async putBucketLifecycle(@Payload() r: PutBucketLifecycleRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketLifecycle', bucket: body(r).bucket, lifecycle: r.lifecycle });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketLifecycle))
  async deleteBucketLifecycle(@Payload() r: DeleteBucketLifecycleRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketLifecycle', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.getBucket))
  async getBucket(@Payload() r: GetBucketRequest): Promise<BucketView> {
    await this.projection.waitFor('META', body(r).minSequence);
    const queries = await this.readModel.queries(BucketQueries);
    const name = String(r.bucket);
    // A name no bucket can have is not looked up in the stream (nor turned into a subject).
    const view =
      bucketNameProblem(name) === null ? await readCatchingUp(this.context, this.projection, this.context.subjects.bucket(name), () => queries.getBucket(name)) : null;
    if (!view) throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${r.bucket} does not exist`, { bucket: r.bucket });
    return view;
  }

  @MessagePattern(metadataPattern(MetadataRpc.listBuckets))
  async listBuckets(@Payload() r: ListBucketsRequest | null): Promise<ListBucketsReply> {
    await this.projection.waitFor('META', r?.minSequence);
    return { buckets: await (await this.readModel.queries(BucketQueries)).listBuckets(r?.owner) };
  }
}
