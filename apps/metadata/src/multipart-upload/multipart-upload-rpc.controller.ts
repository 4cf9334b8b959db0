import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  metadataPattern,
  MetadataRpc,
  type AbortUploadRequest,
  type CompleteUploadRequest,
  type GetUploadRequest,
  type InitiateUploadRequest,
  type ListPartsRequest,
  type ListUploadsRequest,
  type UploadPartRequest,
} from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { ProjectionTracker } from '../projections/projection-tracker';
import { body } from '../shared/rpc-request';
import { MultipartUploadQueries } from './multipart-upload.queries';
import { UploadCommandsHandler } from './upload-commands.handler';

/** The multipart-upload RPCs of the contract in libs/protocol (metadata.rpc.ts): commands, then read-your-writes listings. */
@Controller()
export class MultipartUploadRpcController {
  constructor(
    private readonly uploads: UploadCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
  ) {}

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

  /** An open upload's key and encryption, asked by access for every UploadPart: from the kept state, no history read. */
  @MessagePattern(metadataPattern(MetadataRpc.getUpload))
  getUpload(@Payload() r: GetUploadRequest) {
    const { bucket, uploadId } = body(r);
    return this.uploads.get(bucket, uploadId);
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
}
