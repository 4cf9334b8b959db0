import { Injectable } from '@nestjs/common';
import { keyIdOf } from '@cairn/hashing';
import {
  CairnError,
  MetadataErrorCodes,
  type MetadataErrorCode,
  type AbortUploadReply,
  type CompleteUploadReply,
  type CompleteUploadRequest,
  type InitiateUploadReply,
  type InitiateUploadRequest,
  type MultipartUploadCompleted,
  type UploadPartReply,
  type UploadPartRequest,
} from '@cairn/protocol';
import { multipartUploadDecider, type KnownUpload, type UploadedPart } from '../domain/multipart-upload/multipart-upload.decider';
import { objectKeyDecider } from '../domain/object-key/object-key.decider';
import { objectAclRulesOf } from '../domain/object-key/object-acl';
import { MetadataError } from '../domain/shared/metadata.errors';
import { normalizeEtag } from '../domain/shared/validation';
import { BucketCommandsHandler } from '../bucket/bucket-commands.handler';
import { multipartChecksums } from './multipart-checksums';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { ObjectCommandsHandler } from '../object-key/object-commands.handler';
import type { MultipartUploadCommand } from '../domain/multipart-upload/multipart-upload.commands';

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
    const { bucket, incarnation } = await this.buckets.requireWritable(request.bucket);
    const uploadId = this.ctx.newVersionId();
    const handled = await this.execute({
      type: 'InitiateMultipartUpload',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(String(request.key)),
      incarnation,
      uploadId,
      owner: request.owner,
      initiatedAt: this.ctx.nowIso(),
      contentType: request.contentType ?? DEFAULT_CONTENT_TYPE,
      userMetadata: request.userMetadata ?? {},
      ...(request.contentHeaders === undefined ? {} : { contentHeaders: request.contentHeaders }),
      storageClass: request.storageClass ?? bucket.defaultStorageClass,
      ...(request.tags === undefined ? {} : { tags: request.tags }),
      ...(request.checksum === undefined ? {} : { checksum: request.checksum }),
      ...(request.encryption === undefined ? {} : { encryption: request.encryption }),
      ...(request.retention === undefined ? {} : { retention: request.retention }),
      ...(request.legalHold === true ? { legalHold: true } : {}),
      ...(request.acl === undefined ? {} : { acl: request.acl, aclRules: objectAclRulesOf(bucket) }),
    });
    return { sequence: handled.sequence, uploadId };
  }

  async uploadPart(request: UploadPartRequest): Promise<UploadPartReply> {
    requireUploadId(request.uploadId);
    const { incarnation } = await this.buckets.requireWritable(request.bucket);
    const lastModified = this.ctx.nowIso();
    const handled = await this.execute({
      type: 'UploadPart',
      bucket: request.bucket,
      incarnation,
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
   *
   * Conditions (`ifMatch`, `ifNoneMatch`) are decided by the key's decider when the version is put
   * — the append with the key's expected sequence is the one linearization point, so of N racing
   * conditional completes exactly one appends. A pre-check before freezing could not be that: the
   * key may change between the check and the put whatever sequence the check read. The freeze must
   * come first (it stops parts and abort racing the put), so a put refused by its precondition
   * withdraws the completion: the upload is open again with its parts, as S3 leaves it after a
   * 412, and the client may complete it again or abort it.
   */
  async complete(request: CompleteUploadRequest): Promise<CompleteUploadReply> {
    requireUploadId(request.uploadId);
    const { incarnation } = await this.buckets.requireWritable(request.bucket);
    const subject = this.ctx.subjects.upload(request.bucket, request.uploadId);
    const before = await this.ctx.load(multipartUploadDecider, subject);
    const previous = before.state.status === 'completed' ? before.state.completion : null;
    const sameParts =
      previous !== null &&
      previous.parts.length === request.parts.length &&
      previous.parts.every((p, i) => p.partNumber === request.parts[i]?.partNumber && p.etag === normalizeEtag(String(request.parts[i]?.etag)));
    const versionId = sameParts ? previous.versionId : this.ctx.newVersionId();
    if (before.state.status === 'open') requireClaimedChecksums(before.state, request);
    await this.execute({
      type: 'CompleteMultipartUpload',
      bucket: request.bucket,
      incarnation,
      uploadId: request.uploadId,
      parts: request.parts,
      versionId,
      completedAt: this.ctx.nowIso(),
    });
    const after = await this.ctx.load(multipartUploadDecider, subject);
    const completed = lastCompletionOf(after.events);
    if (!completed || after.state.status !== 'completed') throw new Error(`upload ${request.uploadId} completed without a completion event`);
    const initiated = after.state.initiated;
    const d = completed.data;
    const uploadedParts = after.state.parts;
    const checksums = multipartChecksums(
      initiated.checksum,
      d.parts.map((p) => ({ sizeBytes: p.sizeBytes, checksums: uploadedParts[p.partNumber]?.checksums ?? {} })),
    );
    const put = await this.objects
      .put(
        {
          bucket: d.bucket,
          key: d.key,
          sizeBytes: d.sizeBytes,
          etag: d.etag,
          checksums,
          chunks: d.chunks,
          contentType: initiated.contentType,
          userMetadata: initiated.userMetadata,
          contentHeaders: initiated.contentHeaders,
          storageClass: initiated.storageClass,
          tags: initiated.tags,
          ...(initiated.encryption === undefined ? {} : { encryption: initiated.encryption }),
          ...(initiated.retention === undefined ? {} : { retention: initiated.retention }),
          ...(initiated.legalHold === true ? { legalHold: true } : {}),
          ...(initiated.acl === undefined ? {} : { acl: initiated.acl }),
          ...(request.ifMatch === undefined ? {} : { ifMatch: request.ifMatch }),
          ...(request.ifNoneMatch === undefined ? {} : { ifNoneMatch: request.ifNoneMatch }),
        },
        { uploadId: d.uploadId, versionId: d.versionId, incarnation, partSizes: d.parts.map((p) => p.sizeBytes) },
      )
      .catch(async (error: unknown) => {
        const conditional = request.ifMatch !== undefined || request.ifNoneMatch !== undefined;
        if (!conditional || !isRefusedByCondition(error)) throw error;
        const withdrawnAt = await this.withdrawCompletion(d.bucket, d.keyId, d.uploadId, d.versionId);
        // The sequence lets the caller's next listing of the upload's parts see it open again.
        if (withdrawnAt === undefined || !(error instanceof CairnError)) throw error;
        throw new MetadataError(error.code as MetadataErrorCode, error.message, { ...error.details, sequence: withdrawnAt });
      });
    return { sequence: put.sequence, key: d.key, versionId: put.versionId, etag: d.etag, sizeBytes: d.sizeBytes, lastModified: put.lastModified, checksums };
  }

  /**
   * Reopens an upload whose put the key refused. Never when the key holds a version put from this
   * upload: in an unversioned bucket a retried conditional complete whose first put landed (reply
   * lost) is refused by its own object, and that upload's data is live.
   */
  private async withdrawCompletion(bucket: string, keyId: string, uploadId: string, versionId: string): Promise<number | undefined> {
    const key = await this.ctx.load(objectKeyDecider, this.ctx.subjects.object(bucket, keyId));
    if (key.state.completedUploads.includes(uploadId)) return undefined;
    const handled = await this.execute({ type: 'WithdrawUploadCompletion', bucket, uploadId, versionId, withdrawnAt: this.ctx.nowIso() });
    return handled.sequence;
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

/** The completion in force: a withdrawn one may precede it. */
function lastCompletionOf(events: readonly { type: string }[]): MultipartUploadCompleted | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (event.type === 'MultipartUploadCompleted') return event as MultipartUploadCompleted;
  }
  return undefined;
}

/** What the key's decider answers a failed If-None-Match / If-Match (NoSuchKey: If-Match on no live version). */
/**
 * The object checksums a client claims at completion must be those of the parts it names, checked
 * before anything is written (a part whose etag does not match is left for the decider to refuse).
 */
function requireClaimedChecksums(upload: KnownUpload, request: CompleteUploadRequest): void {
  const claimed = Object.entries(request.checksums ?? {}).filter(([, value]) => value !== undefined);
  if (claimed.length === 0) return;
  const parts = request.parts.map((r) => upload.parts[r.partNumber]);
  if (parts.some((part, i) => part === undefined || part.etag !== normalizeEtag(String(request.parts[i].etag)))) return;
  const actual = multipartChecksums(upload.initiated.checksum, parts as UploadedPart[]) as Record<string, string | undefined>;
  for (const [algorithm, value] of claimed) {
    if (actual[algorithm] !== value) {
      throw new MetadataError(MetadataErrorCodes.BadDigest, `the ${algorithm} checksum of the object is ${actual[algorithm] ?? 'not known'}, not ${String(value)}`);
    }
  }
}

function isRefusedByCondition(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === MetadataErrorCodes.PreconditionFailed || code === MetadataErrorCodes.NoSuchKey;
}

function requireUploadId(uploadId: unknown): void {
  if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) {
    throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${String(uploadId)} does not exist`, { uploadId });
  }
}
