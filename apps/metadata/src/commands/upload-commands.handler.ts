import { Injectable } from '@nestjs/common';
import {
  MetadataErrorCodes,
  type AbortUploadReply,
  type CompleteUploadReply,
  type CompleteUploadRequest,
  type InitiateUploadReply,
  type InitiateUploadRequest,
  type MultipartUploadCommand,
  type MultipartUploadCompleted,
  type MultipartUploadInitiated,
  type UploadPartReply,
  type UploadPartRequest,
} from '@cairn/protocol';
import { multipartUploadDecider } from '../domain/multipart-upload/multipart-upload.decider';
import { MetadataError } from '../domain/shared/metadata.errors';
import { normalizeEtag } from '../domain/shared/validation';
import { BucketCommandsHandler } from './bucket-commands.handler';
import { keyIdOf, MetadataCommandContext } from './metadata-command-context';
import { ObjectCommandsHandler } from './object-commands.handler';

/** Upload ids become a subject token: only these characters ever reach NATS. */
const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** Multipart uploads; completion freezes the parts on the upload, then puts the version on the key. */
@Injectable()
export class UploadCommandsHandler {
  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly buckets: BucketCommandsHandler,
    private readonly objects: ObjectCommandsHandler,
  ) {}

  async initiate(request: InitiateUploadRequest): Promise<InitiateUploadReply> {
    const { bucket } = await this.buckets.requireWritable(request.bucket);
    const uploadId = this.ctx.newVersionId();
    const handled = await this.execute({
      type: 'InitiateMultipartUpload',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(String(request.key)),
      uploadId,
      owner: request.owner,
      initiatedAt: this.ctx.nowIso(),
      contentType: request.contentType ?? DEFAULT_CONTENT_TYPE,
      userMetadata: request.userMetadata ?? {},
      storageClass: request.storageClass ?? bucket.defaultStorageClass,
      ...(request.tags === undefined ? {} : { tags: request.tags }),
    });
    return { sequence: handled.sequence, uploadId };
  }

  async uploadPart(request: UploadPartRequest): Promise<UploadPartReply> {
    requireUploadId(request.uploadId);
    await this.buckets.requireWritable(request.bucket);
    const lastModified = this.ctx.nowIso();
    const handled = await this.execute({
      type: 'UploadPart',
      bucket: request.bucket,
      uploadId: request.uploadId,
      partNumber: request.partNumber,
      etag: request.etag,
      sizeBytes: request.sizeBytes,
      checksums: request.checksums ?? {},
      chunks: request.chunks,
      lastModified,
    });
    return { sequence: handled.sequence, etag: request.etag, lastModified };
  }

  /**
   * Complete on the upload's subject, then put the frozen version on the key's subject. A retry
   * after a lost reply finds the same completion (same parts) and re-puts the same version id,
   * which the key's decider recognises as already written.
   */
  async complete(request: CompleteUploadRequest): Promise<CompleteUploadReply> {
    requireUploadId(request.uploadId);
    await this.buckets.requireWritable(request.bucket);
    const subject = this.ctx.subjects.upload(request.bucket, request.uploadId);
    const before = await this.ctx.load(multipartUploadDecider, subject);
    const previous = completionOf(before.events);
    const sameParts =
      previous !== undefined &&
      previous.data.parts.length === request.parts.length &&
      previous.data.parts.every((p, i) => p.partNumber === request.parts[i]?.partNumber && p.etag === normalizeEtag(String(request.parts[i]?.etag)));
    const versionId = sameParts ? previous.data.versionId : this.ctx.newVersionId();
    await this.execute({ type: 'CompleteMultipartUpload', bucket: request.bucket, uploadId: request.uploadId, parts: request.parts, versionId, completedAt: this.ctx.nowIso() });
    const after = await this.ctx.load(multipartUploadDecider, subject);
    const completed = completionOf(after.events);
    const initiated = after.events.find((e): e is MultipartUploadInitiated => e.type === 'MultipartUploadInitiated');
    if (!completed || !initiated) throw new Error(`upload ${request.uploadId} completed without a completion event`);
    const d = completed.data;
    const put = await this.objects.put(
      {
        bucket: d.bucket,
        key: d.key,
        sizeBytes: d.sizeBytes,
        etag: d.etag,
        chunks: d.chunks,
        contentType: initiated.data.contentType,
        userMetadata: initiated.data.userMetadata,
        storageClass: initiated.data.storageClass,
        tags: initiated.data.tags,
      },
      d.uploadId,
      d.versionId,
    );
    return { sequence: put.sequence, key: d.key, versionId: put.versionId, etag: d.etag, sizeBytes: d.sizeBytes, lastModified: put.lastModified };
  }

  async abort(bucket: string, uploadId: string): Promise<AbortUploadReply> {
    requireUploadId(uploadId);
    await this.buckets.read(bucket);
    const handled = await this.execute({ type: 'AbortMultipartUpload', bucket, uploadId, abortedAt: this.ctx.nowIso() });
    return { sequence: handled.sequence };
  }

  private execute(command: MultipartUploadCommand) {
    return this.ctx.run(multipartUploadDecider, this.ctx.subjects.upload(command.bucket, command.uploadId), command.uploadId, command);
  }
}

function completionOf(events: readonly { type: string }[]): MultipartUploadCompleted | undefined {
  return events.find((e): e is MultipartUploadCompleted => e.type === 'MultipartUploadCompleted');
}

function requireUploadId(uploadId: unknown): void {
  if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) {
    throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${String(uploadId)} does not exist`, { uploadId });
  }
}
