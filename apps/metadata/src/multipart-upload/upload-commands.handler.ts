import { Injectable } from '@nestjs/common';
import { keyIdOf } from '@cairn/hashing';
import {
  CairnError,
  MetadataErrorCodes,
  type MetadataErrorCode,
  type AbortUploadReply,
  type CompleteUploadReply,
  type CompleteUploadRequest,
  type GetUploadReply,
  type InitiateUploadReply,
  type InitiateUploadRequest,
  type MultipartUploadCompleted,
  type UploadPartReply,
  type UploadPartRequest,
} from '@cairn/protocol';
import { maxBodyBytes, NatsConnectionManager } from '@cairn/messaging';
import {
  multipartUploadDecider,
  type KnownUpload,
  type MultipartUploadState,
  type UploadedPart,
} from '../domain/multipart-upload/multipart-upload.decider';
import type { MultipartUploadEvent } from '../domain/multipart-upload/multipart-upload.events';
import { FoldedStateCache } from '@cairn/key-reads';
import { requireCompletionFits } from './completion-size';
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
/** Uploads whose folded states are kept, least recently used out. */
const UPLOAD_STATES_MAX = 10_000;
const UPLOAD_STATE_BYTES_MAX = 128 * 1024 * 1024;
/** Bytes a kept upload state costs per part uploaded (etag, size, checksums) and per chunk named. */
const UPLOAD_STATE_PART_BYTES = 256;
const UPLOAD_STATE_CHUNK_BYTES = 160;
/** The initiation (metadata, tags) and a completion's own fields. */
const UPLOAD_STATE_BASE_BYTES = 2048;

const uploadStateFold = {
  initial: multipartUploadDecider.initialState,
  evolve: multipartUploadDecider.evolve,
  sizeOf: (state: MultipartUploadState) =>
    state.status === 'absent'
      ? 0
      : UPLOAD_STATE_BASE_BYTES +
        state.parts.uploads * UPLOAD_STATE_PART_BYTES +
        // A completion holds its chunks re-based, once more.
        state.parts.chunks * UPLOAD_STATE_CHUNK_BYTES * (state.completion === null ? 1 : 2),
};

/**
 * Multipart uploads; completion freezes the parts on the upload, then puts the version on the key.
 * Each upload's state is folded once and kept (FoldedStateCache), so a part costs the same whether
 * it is the first or the 10,000th: no command reads or folds the upload's history again.
 */
@Injectable()
export class UploadCommandsHandler {
  private readonly uploads: FoldedStateCache<MultipartUploadEvent, MultipartUploadState>;

  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly buckets: BucketCommandsHandler,
    private readonly objects: ObjectCommandsHandler,
    private readonly nats: NatsConnectionManager,
  ) {
    this.uploads = new FoldedStateCache(ctx.store, uploadStateFold, { entriesMax: UPLOAD_STATES_MAX, bytesMax: UPLOAD_STATE_BYTES_MAX });
  }

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
    const before = await this.uploads.load(subject);
    const previous = before.state.status === 'completed' ? before.state.completion : null;
    const sameParts =
      previous !== null &&
      previous.parts.length === request.parts.length &&
      previous.parts.every((p, i) => p.partNumber === request.parts[i]?.partNumber && p.etag === normalizeEtag(String(request.parts[i]?.etag)));
    const versionId = sameParts ? previous.versionId : this.ctx.newVersionId();
    const command: MultipartUploadCommand = {
      type: 'CompleteMultipartUpload',
      bucket: request.bucket,
      incarnation,
      uploadId: request.uploadId,
      parts: request.parts,
      versionId,
      completedAt: this.ctx.nowIso(),
    };
    if (before.state.status === 'open') {
      requireClaimedChecksums(before.state, request);
      await this.requireFits(command, before.state);
    }
    const after = (await this.execute(command)).state;
    if (after.status !== 'completed' || after.completion === null) throw new Error(`upload ${request.uploadId} completed without a completion event`);
    const initiated = after.initiated;
    const d = after.completion.completed;
    const uploadedParts = after.parts;
    const checksums = multipartChecksums(
      initiated.checksum,
      d.parts.map((p) => ({ sizeBytes: p.sizeBytes, checksums: uploadedParts.get(p.partNumber)?.checksums ?? {} })),
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

  /** An open upload's key and encryption (UploadPart encrypts under the upload's data key). */
  async get(bucket: string, uploadId: unknown): Promise<GetUploadReply> {
    if (typeof uploadId !== 'string' || uploadId.length === 0) throw new MetadataError(MetadataErrorCodes.NoSuchUpload, 'no such upload', { uploadId });
    const { state } = await this.uploads.load(this.ctx.subjects.upload(bucket, uploadId));
    if (state.status !== 'open' || state.bucket !== bucket) throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${uploadId} does not exist`, { uploadId });
    return { key: state.key, ...(state.initiated.encryption === undefined ? {} : { encryption: state.initiated.encryption }) };
  }

  async abort(bucket: string, uploadId: string): Promise<AbortUploadReply> {
    requireUploadId(uploadId);
    await this.buckets.read(bucket);
    const handled = await this.execute({ type: 'AbortMultipartUpload', bucket, uploadId, abortedAt: this.ctx.nowIso() });
    return { sequence: handled.sequence };
  }

  /**
   * The completion and the version it puts must each fit in one NATS message: refused with
   * EntityTooLarge before anything is appended (a command the decider refuses is left to it).
   */
  private async requireFits(command: MultipartUploadCommand, state: KnownUpload): Promise<void> {
    let decided: readonly MultipartUploadEvent[];
    try {
      decided = multipartUploadDecider.decide(command, state);
    } catch {
      return;
    }
    const completion = decided.find((event): event is MultipartUploadCompleted => event.type === 'MultipartUploadCompleted');
    if (completion === undefined) return;
    requireCompletionFits(completion.data, state.initiated, maxBodyBytes(await this.nats.connection()));
  }

  private execute(command: MultipartUploadCommand) {
    return this.ctx.run(multipartUploadDecider, this.ctx.subjects.upload(command.bucket, command.uploadId), command.uploadId, command, this.uploads);
  }
}

/** What the key's decider answers a failed If-None-Match / If-Match (NoSuchKey: If-Match on no live version). */
/**
 * The object checksums a client claims at completion must be those of the parts it names, checked
 * before anything is written (a part whose etag does not match is left for the decider to refuse).
 */
function requireClaimedChecksums(upload: KnownUpload, request: CompleteUploadRequest): void {
  const claimed = Object.entries(request.checksums ?? {}).filter(([, value]) => value !== undefined);
  if (claimed.length === 0) return;
  const parts = request.parts.map((r) => upload.parts.get(r.partNumber));
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
