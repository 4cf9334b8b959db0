import { Injectable } from '@nestjs/common';
import { keyIdOf } from '@cairn/hashing';
import {
  MetadataErrorCodes,
  NULL_VERSION_ID,
  type ChangeObjectStorageClassReply,
  type ChangeObjectStorageClassRequest,
  type CopyObjectReply,
  type CopyObjectRequest,
  type DeleteObjectReply,
  type DeleteObjectRequest,
  type DeleteObjectTagsRequest,
  type ObjectKeyEvent,
  type ObjectTagsReply,
  type ObjectVersionView,
  type PutObjectReply,
  type PutObjectRequest,
  type PutObjectAclRequest,
  type PutObjectTagsRequest,
} from '@cairn/protocol';
import { objectKeyDecider, type ObjectKeyState } from '../domain/object-key/object-key.decider';
import { checkObjectRead, FoldedStateCache, keyReadFold, NO_INCARNATION, requireKey, versionToServeInBucket, type KeyAsRead } from '@cairn/key-reads';
import { MetadataError } from '../domain/shared/metadata.errors';
import { BucketCommandsHandler, type BucketRead } from '../bucket/bucket-commands.handler';
import { HomeRegionForwarder } from '../replication/home-region-forwarder';
import { decided, MetadataCommandContext } from '../shared/metadata-command-context';
import { writeLockFor } from '../data-protection/write-lock';
import { objectAclRulesOf } from '../domain/object-key/object-acl';
import type { ObjectKeyCommand } from '../domain/object-key/object-key.commands';

const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
/** Keys whose folded states are kept (each cache), least recently used out. */
const KEY_STATES_MAX = 100_000;
const KEY_STATE_BYTES_MAX = 64 * 1024 * 1024;
/** Read states hold small objects' bytes inline. */
const KEY_READ_BYTES_MAX = 256 * 1024 * 1024;
/** Bytes a kept decider state costs per version (ids, etag, tags) and per completed upload id. */
const KEY_STATE_VERSION_BYTES = 256;

const objectKeyStateFold = {
  initial: objectKeyDecider.initialState,
  evolve: objectKeyDecider.evolve,
  sizeOf: (state: ObjectKeyState) => (state.versions.length + state.completedUploads.length) * KEY_STATE_VERSION_BYTES,
};

/**
 * The version a completed multipart upload puts on its key: the completion's version id and part
 * sizes, and the bucket life the completion read.
 */
export interface CompletedUploadVersion {
  readonly uploadId: string;
  readonly versionId: string;
  readonly incarnation: number;
  readonly partSizes: readonly number[];
}

/** Object-key commands. Every write is guarded by the bucket (exists, not sealed), read from its subject. */
@Injectable()
export class ObjectCommandsHandler {
  /** Each key's decider state, for its commands. */
  private readonly keyStates: FoldedStateCache<ObjectKeyEvent, ObjectKeyState>;
  /** Each key's versions as reads serve them. */
  private readonly keyReads: FoldedStateCache<ObjectKeyEvent, KeyAsRead>;

  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly buckets: BucketCommandsHandler,
    private readonly forwarder: HomeRegionForwarder,
  ) {
    this.keyStates = new FoldedStateCache(ctx.store, objectKeyStateFold, { entriesMax: KEY_STATES_MAX, bytesMax: KEY_STATE_BYTES_MAX });
    this.keyReads = new FoldedStateCache(ctx.store, keyReadFold, { entriesMax: KEY_STATES_MAX, bytesMax: KEY_READ_BYTES_MAX });
  }

  /**
   * `completed.incarnation`, for a completed upload's version: the bucket life the completion read. A
   * bucket deleted and created again since then answers NoSuchUpload — the upload's life has ended,
   * and its version never lands in the new one (confirmWritable covers a recreation after this read).
   */
  async put(request: PutObjectRequest, completedHere?: CompletedUploadVersion): Promise<PutObjectReply> {
    requireKey(request.bucket, request.key);
    const writable = await this.buckets.requireWritable(request.bucket);
    const home = await this.forwarder.homeFor(request.bucket, writable.bucket.replication);
    if (home !== null) {
      const { forwardedCompletion: _ignored, ...asTaken } = request;
      const completion = completedHere ? { uploadId: completedHere.uploadId, versionId: completedHere.versionId, partSizes: completedHere.partSizes } : undefined;
      return this.forwarder.forward<PutObjectReply>(home, 'put', asTaken, completion);
    }
    // At the home: a completion another region took and forwarded here.
    const completed = completedHere ?? (request.forwardedCompletion ? { ...request.forwardedCompletion, incarnation: writable.incarnation } : undefined);
    const { uploadId, versionId: versionIdOverride, incarnation: uploadIncarnation } = completed ?? {};
    if (uploadIncarnation !== undefined && writable.incarnation !== uploadIncarnation) {
      throw new MetadataError(MetadataErrorCodes.NoSuchUpload, `upload ${uploadId} belongs to an earlier life of bucket ${request.bucket}`, { uploadId });
    }
    const { bucket } = writable;
    const lastModified = this.ctx.nowIso();
    const hlc = this.ctx.nextHlc();
    const handled = await this.execute({
      type: 'PutObjectVersion',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation: writable.incarnation,
      versionId: versionIdOverride ?? this.ctx.newVersionId(),
      versioning: bucket.versioning,
      sizeBytes: request.sizeBytes,
      etag: request.etag,
      checksums: request.checksums ?? {},
      contentType: request.contentType ?? DEFAULT_CONTENT_TYPE,
      userMetadata: request.userMetadata ?? {},
      chunks: request.chunks,
      storageClass: request.storageClass ?? bucket.defaultStorageClass,
      hlc,
      ...(request.contentHeaders === undefined ? {} : { contentHeaders: request.contentHeaders }),
      lastModified,
      ...(request.tags === undefined ? {} : { tags: request.tags }),
      ...(request.ifMatch === undefined ? {} : { ifMatch: request.ifMatch }),
      ...(request.ifNoneMatch === undefined ? {} : { ifNoneMatch: request.ifNoneMatch }),
      ...(completed === undefined ? {} : { uploadId: completed.uploadId, partSizes: completed.partSizes }),
      ...(request.encryption === undefined ? {} : { encryption: request.encryption }),
      ...writeLockFor(bucket, request, Date.parse(lastModified)),
      ...(request.acl === undefined ? {} : { acl: request.acl, aclRules: objectAclRulesOf(bucket) }),
    });
    await this.buckets.confirmWritable(request.bucket, writable);
    const put = decided<ObjectKeyEvent, 'ObjectVersionPut'>(handled.events, 'ObjectVersionPut');
    if (put) return { sequence: handled.sequence, versionId: put.versionId, etag: put.etag, lastModified: put.lastModified, hlc: put.hlc };
    // A retried write whose version is already there: answer what was stored.
    const existing = handled.state.versions.find((v) => v.versionId === versionIdOverride);
    return { sequence: handled.sequence, versionId: existing?.versionId ?? NULL_VERSION_ID, etag: request.etag, lastModified, hlc };
  }

  /**
   * HEAD/GET of a key, read from the bucket's and the key's own subjects rather than the projection:
   * current through any gateway whatever the projection's lag (each key is linearizable, docs/architecture.md §4).
   * The two reads go out together, so either may be answered first; the reply still holds at one
   * moment between them: only versions of the bucket life read are served, a life's versions are
   * written only while it lives, and it ends only once they are gone (bucket-commands.handler.ts).
   * `admit`, given the bucket as read, holds the read until this region may answer it
   * (ReplicaReads); when it had to wait for replication, both are read again after.
   */
  async head(bucket: string, key: string, versionId?: string, admit?: (bucket: BucketRead) => Promise<boolean>): Promise<ObjectVersionView> {
    checkObjectRead(bucket, key);
    const subject = this.ctx.subjects.object(bucket, keyIdOf(key));
    const [read, keyRead] = await Promise.all([this.buckets.read(bucket), this.keyReads.load(subject)]);
    if (admit && (await admit(read))) return this.head(bucket, key, versionId);
    // The gateway answers most reads the same way itself (apps/access direct-object-reads.ts).
    return versionToServeInBucket(keyRead.state, read.state.status === 'live' ? read.incarnation : NO_INCARNATION, bucket, key, versionId);
  }

  async copy(request: CopyObjectRequest): Promise<CopyObjectReply> {
    requireKey(request.bucket, request.key);
    requireKey(request.sourceBucket, request.sourceKey);
    const writable = await this.buckets.requireWritable(request.bucket);
    const home = await this.forwarder.homeFor(request.bucket, writable.bucket.replication);
    if (home !== null) return this.forwarder.forward<CopyObjectReply>(home, 'copy', request);
    const source = await this.head(request.sourceBucket, request.sourceKey, request.sourceVersionId);
    const { bucket } = writable;
    const handled = await this.execute({
      type: 'CopyObject',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation: writable.incarnation,
      versionId: this.ctx.newVersionId(),
      versioning: bucket.versioning,
      source: {
        bucket: request.sourceBucket,
        key: request.sourceKey,
        versionId: source.versionId,
        sizeBytes: source.sizeBytes,
        etag: source.etag ?? '',
        checksums: source.checksums,
        contentType: source.contentType ?? DEFAULT_CONTENT_TYPE,
        userMetadata: source.userMetadata,
        contentHeaders: source.contentHeaders,
        chunks: source.chunks,
        ...(source.partSizes === null ? {} : { partSizes: source.partSizes }),
        storageClass: source.storageClass ?? bucket.defaultStorageClass,
        tags: source.tags,
        ...(source.encryption === undefined ? {} : { encryption: source.encryption }),
      },
      metadataDirective: request.metadataDirective ?? 'COPY',
      taggingDirective: request.taggingDirective ?? 'COPY',
      hlc: this.ctx.nextHlc(),
      lastModified: this.ctx.nowIso(),
      ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
      ...(request.userMetadata === undefined ? {} : { userMetadata: request.userMetadata }),
      ...(request.contentHeaders === undefined ? {} : { contentHeaders: request.contentHeaders }),
      ...(request.storageClass === undefined ? {} : { storageClass: request.storageClass }),
      ...(request.chunks === undefined ? {} : { chunks: request.chunks }),
      ...(request.tags === undefined ? {} : { tags: request.tags }),
      ...(request.ifMatch === undefined ? {} : { ifMatch: request.ifMatch }),
      ...(request.ifNoneMatch === undefined ? {} : { ifNoneMatch: request.ifNoneMatch }),
      ...(request.encryption === undefined ? {} : { encryption: request.encryption }),
      ...writeLockFor(bucket, request, Date.parse(this.ctx.nowIso())),
      ...(request.acl === undefined ? {} : { acl: request.acl, aclRules: objectAclRulesOf(bucket) }),
    });
    await this.buckets.confirmWritable(request.bucket, writable);
    const copied = decided<ObjectKeyEvent, 'ObjectVersionCopied'>(handled.events, 'ObjectVersionCopied');
    if (!copied) throw new Error(`copy of ${request.sourceKey} appended no version`);
    return { sequence: handled.sequence, versionId: copied.versionId, sourceVersionId: source.versionId, etag: copied.etag, lastModified: copied.lastModified };
  }

  /** Deleting versions is never refused by a seal (emptying a bucket must stay possible); adding a delete marker is. */
  async delete(request: DeleteObjectRequest): Promise<DeleteObjectReply> {
    requireKey(request.bucket, request.key);
    const read = await this.buckets.read(request.bucket);
    if (read.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${request.bucket} does not exist`, { bucket: request.bucket });
    const home = await this.forwarder.homeFor(request.bucket, read.state.replication);
    if (home !== null) return this.forwarder.forward<DeleteObjectReply>(home, 'delete', request);
    const ref = {
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation: read.incarnation,
      ...(request.expect ? { expect: request.expect } : {}),
      ...(request.ifMatch === undefined ? {} : { ifMatch: request.ifMatch }),
    };
    if (request.versionId !== undefined) {
      const handled = await this.execute({
        type: 'DeleteObjectVersion',
        ...ref,
        versionId: request.versionId,
        now: this.ctx.nowIso(),
        ...(request.bypassGovernanceRetention === true ? { bypassGovernance: true } : {}),
      });
      const deleted = decided<ObjectKeyEvent, 'ObjectVersionDeleted'>(handled.events, 'ObjectVersionDeleted');
      return { sequence: handled.sequence, versionId: request.versionId, deleteMarker: deleted?.wasDeleteMarker ?? false };
    }
    // A delete marker is a new version: like a put, a sealed bucket refuses it, and a marker that
    // raced the seal is not acknowledged. Removing the null version (unversioned) only empties.
    const addsMarker = read.state.versioning !== 'Unversioned';
    if (addsMarker && read.state.deletionId !== null) {
      throw new MetadataError(MetadataErrorCodes.OperationAborted, `bucket ${request.bucket} is being deleted`, { bucket: request.bucket });
    }
    const handled = await this.execute({
      type: 'DeleteObject',
      ...ref,
      versionId: this.ctx.newVersionId(),
      versioning: read.state.versioning,
      hlc: this.ctx.nextHlc(),
      lastModified: this.ctx.nowIso(),
    });
    if (addsMarker) await this.buckets.confirmWritable(request.bucket, read);
    const marker = decided<ObjectKeyEvent, 'DeleteMarkerPut'>(handled.events, 'DeleteMarkerPut');
    if (marker) return { sequence: handled.sequence, versionId: marker.versionId, deleteMarker: true };
    return { sequence: handled.sequence, deleteMarker: false };
  }

  async putTags(request: PutObjectTagsRequest): Promise<ObjectTagsReply> {
    requireKey(request.bucket, request.key);
    const home = await this.homeOf(request.bucket);
    if (home !== null) return this.forwarder.forward<ObjectTagsReply>(home, 'put-tags', request);
    const incarnation = await this.requireBucket(request.bucket);
    const handled = await this.execute({
      type: 'PutObjectTags',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation,
      tags: request.tags,
      ...(request.versionId === undefined ? {} : { versionId: request.versionId }),
    });
    const set = decided<ObjectKeyEvent, 'ObjectTagsSet'>(handled.events, 'ObjectTagsSet');
    return { sequence: handled.sequence, versionId: set?.versionId ?? request.versionId ?? NULL_VERSION_ID };
  }

  async deleteTags(request: DeleteObjectTagsRequest): Promise<ObjectTagsReply> {
    requireKey(request.bucket, request.key);
    const home = await this.homeOf(request.bucket);
    if (home !== null) return this.forwarder.forward<ObjectTagsReply>(home, 'delete-tags', request);
    const incarnation = await this.requireBucket(request.bucket);
    const handled = await this.execute({
      type: 'DeleteObjectTags',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation,
      ...(request.versionId === undefined ? {} : { versionId: request.versionId }),
    });
    const removed = decided<ObjectKeyEvent, 'ObjectTagsDeleted'>(handled.events, 'ObjectTagsDeleted');
    return { sequence: handled.sequence, versionId: removed?.versionId ?? request.versionId ?? handled.state.versions[0]?.versionId ?? NULL_VERSION_ID };
  }

  /** PutObjectAcl: decided on the key with the bucket's ACL rules as read now; forwarded to an active-passive home like tags. */
  async putAcl(request: PutObjectAclRequest): Promise<ObjectTagsReply> {
    requireKey(request.bucket, request.key);
    const home = await this.homeOf(request.bucket);
    if (home !== null) return this.forwarder.forward<ObjectTagsReply>(home, 'put-acl', request);
    const read = await this.buckets.read(request.bucket);
    if (read.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${request.bucket} does not exist`, { bucket: request.bucket });
    const handled = await this.execute({
      type: 'PutObjectAcl',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation: read.incarnation,
      acl: request.acl,
      aclRules: objectAclRulesOf(read.state),
      ...(request.versionId === undefined ? {} : { versionId: request.versionId }),
    });
    const set = decided<ObjectKeyEvent, 'ObjectAclSet'>(handled.events, 'ObjectAclSet');
    return { sequence: handled.sequence, versionId: set?.versionId ?? request.versionId ?? handled.state.versions[0]?.versionId ?? NULL_VERSION_ID };
  }

  /**
   * Swaps a version's chunks for the same bytes stored in another class (lifecycle transitions): one
   * event on the key's subject, so a reader sees the old list or the new one, never a mix. Not
   * forwarded to an active-passive home: each region keeps its own layout.
   */
  async changeStorageClass(request: ChangeObjectStorageClassRequest): Promise<ChangeObjectStorageClassReply> {
    requireKey(request.bucket, request.key);
    const incarnation = await this.requireBucket(request.bucket);
    const handled = await this.execute({
      type: 'ChangeStorageClass',
      bucket: request.bucket,
      key: request.key,
      keyId: keyIdOf(request.key),
      incarnation,
      versionId: request.versionId,
      etag: request.etag,
      fromStorageClass: request.fromStorageClass,
      storageClass: request.storageClass,
      chunks: request.chunks,
      changedAt: this.ctx.nowIso(),
    });
    const changed = decided<ObjectKeyEvent, 'ObjectVersionStorageClassChanged'>(handled.events, 'ObjectVersionStorageClassChanged');
    return { sequence: handled.sequence, versionId: request.versionId, storageClass: request.storageClass, changed: changed !== undefined };
  }

  /** The home region a write to the bucket goes to, or null when this region takes it (or the bucket is not here). */
  private async homeOf(bucket: string): Promise<string | null> {
    const read = await this.buckets.read(bucket);
    return read.state.status === 'live' ? this.forwarder.homeFor(bucket, read.state.replication) : null;
  }

  /** The bucket's current life; NoSuchBucket when it does not exist. */
  private async requireBucket(bucket: string): Promise<number> {
    const read = await this.buckets.read(bucket);
    if (read.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
    return read.incarnation;
  }

  /**
   * Another region's change of a key (replication): decided against this region's life of the
   * bucket, appended with its origin. The bucket must be here already (sync applies a bucket's own
   * events first); a bucket being deleted here still takes it, like a delete of a version would.
   */
  async applyReplicated(sourceRegion: string, envelope: { readonly type: string; readonly hlc: string; readonly data: unknown }) {
    const event = { type: envelope.type, data: envelope.data } as ObjectKeyEvent;
    const { bucket, key } = event.data;
    requireKey(bucket, key);
    const incarnation = await this.requireBucket(bucket);
    this.ctx.observeHlc(envelope.hlc);
    const keyId = keyIdOf(key);
    return this.ctx.run(
      objectKeyDecider,
      this.ctx.subjects.object(bucket, keyId),
      `${bucket}/${keyId}`,
      { type: 'ApplyReplicatedChange', bucket, key, keyId, incarnation, sourceRegion, event, changeHlc: envelope.hlc, resolvedAt: this.ctx.nowIso() },
      this.keyStates,
      sourceRegion,
    );
  }

  /** Object Lock and data-key commands (data-protection/): decided on the key like every write. */
  executeOnKey(command: ObjectKeyCommand) {
    return this.execute(command);
  }

  private async execute(command: ObjectKeyCommand) {
    const local = { ...command, region: this.ctx.identity.region };
    const handled = await this.ctx.run(objectKeyDecider, this.ctx.subjects.object(command.bucket, command.keyId), `${command.bucket}/${command.keyId}`, local, this.keyStates);
    // An active-passive home acknowledges only while its lease held through the append (docs/failover.md).
    await this.forwarder.assertStillHome(command.bucket);
    return handled;
  }
}
