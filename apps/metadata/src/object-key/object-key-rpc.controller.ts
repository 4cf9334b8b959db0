import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  metadataPattern,
  MetadataRpc,
  type ChangeObjectStorageClassRequest,
  type CopyObjectRequest,
  type DeleteObjectRequest,
  type DeleteObjectTagsRequest,
  type HeadObjectRequest,
  type ListObjectsRequest,
  type ListObjectsV2Request,
  type ListObjectVersionsRequest,
  type ObjectVersionView,
  type PutObjectAclRequest,
  type PutObjectRequest,
  type PutObjectTagsRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { ProjectionTracker } from '../projections/projection-tracker';
import { ReplicaReads } from '../replication/replica-reads';
import { body } from '../shared/rpc-request';
import { ObjectCommandsHandler } from './object-commands.handler';
import { ObjectKeyQueries } from './object-key.queries';

/** The object-key RPCs of the contract in libs/protocol (metadata.rpc.ts): writes, HEAD from the key's subject, listings from the read model. */
@Controller()
export class ObjectKeyRpcController {
  constructor(
    private readonly objects: ObjectCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
    private readonly replicaReads: ReplicaReads,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.putObject))
  putObject(@Payload() r: PutObjectRequest) {
    return this.objects.put(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.copyObject))
  copyObject(@Payload() r: CopyObjectRequest) {
    return this.objects.copy(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteObject))
  deleteObject(@Payload() r: DeleteObjectRequest) {
    return this.objects.delete(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.putObjectTags))
  putObjectTags(@Payload() r: PutObjectTagsRequest) {
    return this.objects.putTags(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.putObjectAcl))
  putObjectAcl(@Payload() r: PutObjectAclRequest) {
    return this.objects.putAcl(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteObjectTags))
  deleteObjectTags(@Payload() r: DeleteObjectTagsRequest) {
    return this.objects.deleteTags(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.changeObjectStorageClass))
  changeObjectStorageClass(@Payload() r: ChangeObjectStorageClassRequest) {
    return this.objects.changeStorageClass(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.headObject))
  /** Read from the key's own subject: current without waiting for the projection, so minSequence is not needed. */
  async headObject(@Payload() r: HeadObjectRequest): Promise<ObjectVersionView> {
    const request = body(r);
    return this.objects.head(request.bucket, request.key, request.versionId, (read) => this.replicaReads.admit(String(request.bucket), request.requester, read));
  }

  @MessagePattern(metadataPattern(MetadataRpc.listObjects))
  async listObjects(@Payload() r: ListObjectsRequest) {
    await this.waitForListing(body(r));
    return (await this.readModel.queries(ObjectKeyQueries)).listObjects(String(r.bucket), r);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listObjectsV2))
  async listObjectsV2(@Payload() r: ListObjectsV2Request) {
    await this.waitForListing(body(r));
    return (await this.readModel.queries(ObjectKeyQueries)).listObjectsV2(String(r.bucket), r);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listObjectVersions))
  async listObjectVersions(@Payload() r: ListObjectVersionsRequest) {
    await this.waitForListing(body(r));
    return (await this.readModel.queries(ObjectKeyQueries)).listObjectVersions(String(r.bucket), r);
  }

  /** A listing waits for its read-your-writes point, and in a replica region for what its bucket's staleness needs applied here. */
  private async waitForListing(r: { bucket: string; minSequence?: number; requester?: string }): Promise<void> {
    const replicated = await this.replicaReads.admit(String(r.bucket), r.requester);
    // What was applied for this read is in the local stream by now: the projection must show it too.
    const minSequence = replicated ? Math.max(r.minSequence ?? 0, await this.projection.lastSequence('META')) : r.minSequence;
    await this.projection.waitFor('META', minSequence);
  }
}
