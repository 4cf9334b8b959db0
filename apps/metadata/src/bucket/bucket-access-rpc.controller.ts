import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  metadataPattern,
  MetadataRpc,
  type CommandReply,
  type DeleteBucketOwnershipControlsRequest,
  type DeleteBucketPublicAccessBlockRequest,
  type PutBucketAclRequest,
  type PutBucketOwnershipControlsRequest,
  type PutBucketPublicAccessBlockRequest,
} from '@cairn/protocol';
import { body } from '../shared/rpc-request';
import { BucketCommandsHandler } from './bucket-commands.handler';

/** A bucket's access settings (user-access.rpc.ts): ACL, ownership controls, PublicAccessBlock; read back with getBucket. */
@Controller()
export class BucketAccessRpcController {
  constructor(private readonly buckets: BucketCommandsHandler) {}

  @MessagePattern(metadataPattern(MetadataRpc.putBucketAcl))
  async putBucketAcl(@Payload() r: PutBucketAclRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketAcl', bucket: body(r).bucket, acl: r.acl });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putBucketOwnershipControls))
  async putBucketOwnershipControls(@Payload() r: PutBucketOwnershipControlsRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketOwnershipControls', bucket: body(r).bucket, objectOwnership: r.objectOwnership });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketOwnershipControls))
  async deleteBucketOwnershipControls(@Payload() r: DeleteBucketOwnershipControlsRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketOwnershipControls', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.putBucketPublicAccessBlock))
  async putBucketPublicAccessBlock(@Payload() r: PutBucketPublicAccessBlockRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'PutBucketPublicAccessBlock', bucket: body(r).bucket, publicAccessBlock: body(r.publicAccessBlock) });
    return { sequence: handled.sequence };
  }

  @MessagePattern(metadataPattern(MetadataRpc.deleteBucketPublicAccessBlock))
  async deleteBucketPublicAccessBlock(@Payload() r: DeleteBucketPublicAccessBlockRequest): Promise<CommandReply> {
    const handled = await this.buckets.execute({ type: 'DeleteBucketPublicAccessBlock', bucket: body(r).bucket });
    return { sequence: handled.sequence };
  }
}
