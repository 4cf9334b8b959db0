import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { keyIdOf } from '@cairn/hashing';
import {
  MetadataErrorCodes,
  metadataPattern,
  MetadataRpc,
  type CommandReply,
  type DeleteBucketEncryptionRequest,
  type ObjectKeyEvent,
  type PutBucketEncryptionRequest,
  type PutObjectLockConfigurationRequest,
  type PutObjectLockReply,
  type PutObjectLockRequest,
  type RewrapObjectKeyReply,
  type RewrapObjectKeyRequest,
} from '@cairn/protocol';
import { BucketCommandsHandler } from '../bucket/bucket-commands.handler';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ObjectCommandsHandler } from '../object-key/object-commands.handler';
import { decided, MetadataCommandContext } from '../shared/metadata-command-context';
import { body } from '../shared/rpc-request';

/** Encryption at rest and Object Lock: bucket configurations, a version's lock, data-key rewraps, an upload's encryption. */
@Controller()
export class DataProtectionRpcController {
  constructor(
    private readonly buckets: BucketCommandsHandler,
    private readonly objects: ObjectCommandsHandler,
    private readonly ctx: MetadataCommandContext,
  ) {}

  @MessagePattern(metadataPattern(MetadataRpc.putBucketEncryption))
  async putBucketEncryption(@Payload() r: PutBucketEncryptionRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketEncryption', bucket: body(r).bucket, encryption: r.encryption });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketEncryption))
  async deleteBucketEncryption(@Payload() r: DeleteBucketEncryptionRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketEncryption', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putObjectLockConfiguration))
  async putObjectLockConfiguration(@Payload() r: PutObjectLockConfigurationRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutObjectLockConfiguration', bucket: body(r).bucket, objectLock: r.objectLock });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putObjectLock))
  async putObjectLock(@Payload() r: PutObjectLockRequest): Promise<PutObjectLockReply> {
    const { bucket, key } = body(r);
    if (typeof key !== 'string' || key.length === 0) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'an object key is required');
    const read = await this.buckets.read(bucket);
    if (read.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
    const handled = await this.objects.executeOnKey({
      type: 'SetObjectLock',
      bucket,
      key,
      keyId: keyIdOf(key),
      incarnation: read.incarnation,
      objectLockEnabled: read.state.objectLock !== null,
      now: this.ctx.nowIso(),
      ...(r.versionId === undefined ? {} : { versionId: r.versionId }),
      ...(r.retention === undefined ? {} : { retention: r.retention }),
      ...(r.legalHold === undefined ? {} : { legalHold: r.legalHold }),
      ...(r.bypassGovernanceRetention === true ? { bypassGovernance: true } : {}),
    });
    const changed = decided<ObjectKeyEvent, 'ObjectLockChanged'>(handled.events, 'ObjectLockChanged');
    return { sequence: handled.sequence, versionId: changed?.versionId ?? r.versionId ?? handled.state.versions[0]?.versionId ?? 'null' };
  }

  @MessagePattern(metadataPattern(MetadataRpc.rewrapObjectKey))
  async rewrapObjectKey(@Payload() r: RewrapObjectKeyRequest): Promise<RewrapObjectKeyReply> {
    const { bucket, key } = body(r);
    const read = await this.buckets.read(bucket);
    if (read.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
    const handled = await this.objects.executeOnKey({
      type: 'RewrapDataKey',
      bucket,
      key,
      keyId: keyIdOf(key),
      incarnation: read.incarnation,
      versionId: r.versionId,
      fromKeyId: r.fromKeyId,
      encryption: r.encryption,
    });
    return { sequence: handled.sequence, rewrapped: handled.events.length > 0 };
  }
}
