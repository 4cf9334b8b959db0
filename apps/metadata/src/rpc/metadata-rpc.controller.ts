import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  CairnError,
  ErrorCodes,
  MetadataErrorCodes,
  metadataPattern,
  MetadataRpc,
  type AbortUploadRequest,
  type AccessKeyView,
  type BucketView,
  type ChangeNodeWeightRequest,
  type CommandReply,
  type CompleteUploadRequest,
  type CopyObjectRequest,
  type CreateAccessKeyRequest,
  type CreateBucketRequest,
  type DeleteBucketRequest,
  type DeleteBucketTagsRequest,
  type DeleteObjectRequest,
  type DeleteObjectTagsRequest,
  type GetAccessKeyRequest,
  type GetBucketRequest,
  type HeadObjectRequest,
  type InitiateUploadRequest,
  type JoinNodeRequest,
  type ListChunkReferencesReply,
  type ListChunkReferencesRequest,
  type ListAccessKeysReply,
  type ListAccessKeysRequest,
  type ListBucketsReply,
  type ListBucketsRequest,
  type ListNodesReply,
  type ListNodesRequest,
  type ListObjectsRequest,
  type ListObjectsV2Request,
  type ListObjectVersionsRequest,
  type ListPartsRequest,
  type ListUploadsRequest,
  type NodeIdRequest,
  type ObjectVersionView,
  type ProjectionStatusReply,
  type PutBucketTagsRequest,
  type PutObjectRequest,
  type PutObjectTagsRequest,
  type RevokeAccessKeyRequest,
  type RingEpochReply,
  type RingEpochRequest,
  type SetBucketDefaultStorageClassRequest,
  type SetBucketReplicationRequest,
  type SetBucketVersioningRequest,
  type UploadPartRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { AccessKeyQueries } from '../access-key/access-key.queries';
import { BucketQueries } from '../bucket/bucket.queries';
import { ChunkReferenceQueries } from '../chunk-references/chunk-references.queries';
import { MembershipQueries } from '../membership/membership.queries';
import { MultipartUploadQueries } from '../multipart-upload/multipart-upload.queries';
import { ObjectKeyQueries } from '../object-key/object-key.queries';
import { AccessKeyCommandsHandler, requireAccessKeyId } from '../access-key/access-key-commands.handler';
import { BucketCommandsHandler } from '../bucket/bucket-commands.handler';
import { MembershipCommandsHandler } from '../membership/membership-commands.handler';
import { ObjectCommandsHandler } from '../object-key/object-commands.handler';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { UploadCommandsHandler } from '../multipart-upload/upload-commands.handler';
import { bucketNameProblem } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ProjectionTracker } from '../projections/projection-tracker';
import { CHECKPOINT_NAMES } from '../projections/projection-streams';
import { chunkReferenceRange } from '../chunk-references/chunk-reference-range';

/** Every RPC of the contract in libs/protocol (metadata.rpc.ts): commands, then read-your-writes queries. */
@Controller()
export class MetadataRpcController {
  constructor(
    private readonly buckets: BucketCommandsHandler,
    private readonly objects: ObjectCommandsHandler,
    private readonly uploads: UploadCommandsHandler,
    private readonly accessKeys: AccessKeyCommandsHandler,
    private readonly membership: MembershipCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
    private readonly context: MetadataCommandContext,
  ) {}

  /**
   * Reads through the projection; a miss whose subject already has events (written moments ago,
   * perhaps through another gateway that this caller knows nothing of) waits for the projection to
   * apply them and reads again, so a bucket or access key is usable as soon as its creation is acknowledged.
   */
  private async readCatchingUp<T>(subject: string, read: () => Promise<T | null>): Promise<T | null> {
    const found = await read();
    if (found !== null) return found;
    const last = await this.context.store.lastSequence(subject);
    if (last === 0) return null;
    await this.projection.waitFor('META', last);
    return read();
  }

  // ---- buckets
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

  @MessagePattern(metadataPattern(MetadataRpc.getBucket))
  async getBucket(@Payload() r: GetBucketRequest): Promise<BucketView> {
    await this.projection.waitFor('META', body(r).minSequence);
    const queries = await this.readModel.queries(BucketQueries);
    const name = String(r.bucket);
    // A name no bucket can have is not looked up in the stream (nor turned into a subject).
    const view = bucketNameProblem(name) === null ? await this.readCatchingUp(this.context.subjects.bucket(name), () => queries.getBucket(name)) : null;
    if (!view) throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${r.bucket} does not exist`, { bucket: r.bucket });
    return view;
  }

  @MessagePattern(metadataPattern(MetadataRpc.listBuckets))
  async listBuckets(@Payload() r: ListBucketsRequest | null): Promise<ListBucketsReply> {
    await this.projection.waitFor('META', r?.minSequence);
    return { buckets: await (await this.readModel.queries(BucketQueries)).listBuckets(r?.owner) };
  }

  // ---- objects
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

  @MessagePattern(metadataPattern(MetadataRpc.deleteObjectTags))
  deleteObjectTags(@Payload() r: DeleteObjectTagsRequest) {
    return this.objects.deleteTags(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.headObject))
  /** Read from the key's own subject: current without waiting for the projection, so minSequence is not needed. */
  async headObject(@Payload() r: HeadObjectRequest): Promise<ObjectVersionView> {
    return this.objects.head(body(r).bucket, r.key, r.versionId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listObjects))
  async listObjects(@Payload() r: ListObjectsRequest) {
    await this.projection.waitFor('META', body(r).minSequence);
    return (await this.readModel.queries(ObjectKeyQueries)).listObjects(String(r.bucket), r);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listObjectsV2))
  async listObjectsV2(@Payload() r: ListObjectsV2Request) {
    await this.projection.waitFor('META', body(r).minSequence);
    return (await this.readModel.queries(ObjectKeyQueries)).listObjectsV2(String(r.bucket), r);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listObjectVersions))
  async listObjectVersions(@Payload() r: ListObjectVersionsRequest) {
    await this.projection.waitFor('META', body(r).minSequence);
    return (await this.readModel.queries(ObjectKeyQueries)).listObjectVersions(String(r.bucket), r);
  }

  // ---- multipart uploads
  @MessagePattern(metadataPattern(MetadataRpc.initiateUpload))
  initiateUpload(@Payload() r: InitiateUploadRequest) {
    return this.uploads.initiate(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.uploadPart))
  uploadPart(@Payload() r: UploadPartRequest) {
    return this.uploads.uploadPart(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.completeUpload))
  completeUpload(@Payload() r: CompleteUploadRequest) {
    return this.uploads.complete(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.abortUpload))
  abortUpload(@Payload() r: AbortUploadRequest) {
    return this.uploads.abort(body(r).bucket, r.uploadId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listUploads))
  async listUploads(@Payload() r: ListUploadsRequest) {
    await this.projection.waitFor('META', body(r).minSequence);
    return (await this.readModel.queries(MultipartUploadQueries)).listMultipartUploads(String(r.bucket), { ...r, maxKeys: r.maxUploads });
  }

  @MessagePattern(metadataPattern(MetadataRpc.listParts))
  async listParts(@Payload() r: ListPartsRequest) {
    await this.projection.waitFor('META', body(r).minSequence);
    return (await this.readModel.queries(MultipartUploadQueries)).listParts(String(r.bucket), String(r.uploadId), r);
  }

  // ---- access keys
  @MessagePattern(metadataPattern(MetadataRpc.createAccessKey))
  createAccessKey(@Payload() r: CreateAccessKeyRequest) {
    return this.accessKeys.create(body(r).owner);
  }

  @MessagePattern(metadataPattern(MetadataRpc.revokeAccessKey))
  revokeAccessKey(@Payload() r: RevokeAccessKeyRequest) {
    return this.accessKeys.revoke(body(r).accessKeyId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.getAccessKey))
  async getAccessKey(@Payload() r: GetAccessKeyRequest): Promise<AccessKeyView> {
    requireAccessKeyId(body(r).accessKeyId);
    await this.projection.waitFor('META', r.minSequence);
    const queries = await this.readModel.queries(AccessKeyQueries);
    const view = await this.readCatchingUp(this.context.subjects.accessKey(r.accessKeyId), () => queries.getAccessKey(r.accessKeyId));
    if (!view) throw new MetadataError(MetadataErrorCodes.InvalidAccessKeyId, `access key ${r.accessKeyId} does not exist`);
    return view;
  }

  @MessagePattern(metadataPattern(MetadataRpc.listAccessKeys))
  async listAccessKeys(@Payload() r: ListAccessKeysRequest | null): Promise<ListAccessKeysReply> {
    await this.projection.waitFor('META', r?.minSequence);
    return { accessKeys: await (await this.readModel.queries(AccessKeyQueries)).listAccessKeys(r?.owner) };
  }

  // ---- membership
  @MessagePattern(metadataPattern(MetadataRpc.joinNode))
  joinNode(@Payload() r: JoinNodeRequest) {
    return this.membership.join(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.changeNodeWeight))
  changeNodeWeight(@Payload() r: ChangeNodeWeightRequest) {
    return this.membership.changeWeight(body(r));
  }

  @MessagePattern(metadataPattern(MetadataRpc.drainNode))
  drainNode(@Payload() r: NodeIdRequest) {
    return this.membership.drain(body(r).nodeId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.removeNode))
  removeNode(@Payload() r: NodeIdRequest) {
    return this.membership.remove(body(r).nodeId);
  }

  @MessagePattern(metadataPattern(MetadataRpc.listNodes))
  async listNodes(@Payload() r: ListNodesRequest | null): Promise<ListNodesReply> {
    await this.projection.waitFor('CLUSTER', r?.minSequence);
    const queries = await this.readModel.queries(MembershipQueries);
    const [nodes, epoch] = await Promise.all([queries.listStorageNodes(), queries.ringEpoch()]);
    return { nodes, epoch };
  }

  @MessagePattern(metadataPattern(MetadataRpc.ringEpoch))
  async ringEpoch(@Payload() r: RingEpochRequest | null): Promise<RingEpochReply> {
    await this.projection.waitFor('CLUSTER', r?.minSequence);
    return { epoch: await (await this.readModel.queries(MembershipQueries)).ringEpoch() };
  }

  // ---- chunk references
  /**
   * Waits for the sequence META has reached on arrival rather than a caller's: garbage collection
   * takes a chunk missing here for unreferenced, so no reference acknowledged before may be missed.
   */
  @MessagePattern(metadataPattern(MetadataRpc.listChunkReferences))
  async listChunkReferences(@Payload() r: ListChunkReferencesRequest | null): Promise<ListChunkReferencesReply> {
    const range = chunkReferenceRange(r);
    const arrivedAt = await this.projection.lastSequence('META');
    await this.projection.waitFor('META', arrivedAt);
    const page = await (await this.readModel.queries(ChunkReferenceQueries)).listChunkReferences(range, CHECKPOINT_NAMES.META);
    // Checkpoints only grow, and waitFor saw one at or past arrivedAt committed before the snapshot.
    if (page.asOfSequence < arrivedAt) {
      throw new CairnError(ErrorCodes.Internal, `chunk references read as of META ${page.asOfSequence}, before ${arrivedAt} which the projection had reached`);
    }
    return page;
  }

  @MessagePattern(metadataPattern(MetadataRpc.projectionStatus))
  async projectionStatus(): Promise<ProjectionStatusReply> {
    return { streams: await this.projection.status() };
  }
}

/** A request must be a JSON object; the handlers and deciders validate its fields. */
function body<T>(payload: T): NonNullable<T> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new MetadataError(MetadataErrorCodes.InvalidRequest, 'the request must be a JSON object');
  }
  return payload as NonNullable<T>;
}
