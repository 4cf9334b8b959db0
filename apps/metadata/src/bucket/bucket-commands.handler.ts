import { Injectable } from '@nestjs/common';
import {
  MetadataErrorCodes,
  type CreateBucketReply,
  type CreateBucketRequest,
  type DeleteBucketReply,
  type SetBucketVersioningReply,
  type VersioningStatus,
} from '@cairn/protocol';
import { bucketDecider, type BucketState, type LiveBucket } from '../domain/bucket/bucket.decider';
import { validateBucketName } from '../domain/bucket/bucket-name';
import { bucketIncarnation } from '@cairn/key-reads';
import { MetadataError } from '../domain/shared/metadata.errors';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { ProjectionTracker } from '../projections/projection-tracker';
import { BucketQueries } from './bucket.queries';
import { MetadataCommandContext, type AggregateRead } from '../shared/metadata-command-context';
import type { BucketCommand } from '../domain/bucket/bucket.commands';

/** DeleteBucket needs only "zero or not": the count stops here. */
const EMPTINESS_COUNT_CAP = 1;

/** The bucket's subject as read, with its current life (bucket-incarnation.ts). */
export interface BucketRead extends AggregateRead<BucketState> {
  readonly incarnation: number;
}

/** What a key write read of its bucket: the life it writes into and the subject sequence to confirm against. */
export interface WritableBucket {
  readonly bucket: LiveBucket;
  readonly sequence: number;
  readonly incarnation: number;
}

/** Bucket commands, and the bucket reads the other handlers guard their writes with. */
@Injectable()
export class BucketCommandsHandler {
  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
  ) {}

  async create(request: CreateBucketRequest): Promise<CreateBucketReply> {
    const createdAt = this.ctx.nowIso();
    const handled = await this.execute({
      type: 'CreateBucket',
      bucket: request.bucket,
      owner: request.owner,
      region: this.ctx.identity.region,
      createdAt,
      ...(request.versioningEnabled === undefined ? {} : { versioningEnabled: request.versioningEnabled }),
      ...(request.replication === undefined ? {} : { replication: request.replication }),
      ...(request.defaultStorageClass === undefined ? {} : { defaultStorageClass: request.defaultStorageClass }),
      ...(request.objectLockEnabled === true ? { objectLockEnabled: true } : {}),
      ...(request.objectOwnership === undefined ? {} : { objectOwnership: request.objectOwnership }),
      ...(request.acl === undefined ? {} : { acl: request.acl }),
    });
    return { sequence: handled.sequence, bucket: request.bucket, region: this.ctx.identity.region, createdAt };
  }

  /**
   * The two-phase delete (bucket.decider.ts): seal, wait until the projection has applied the seal
   * (every acknowledged put precedes it in the stream), count, then delete — or cancel the seal and
   * answer BucketNotEmpty.
   */
  async delete(bucket: string): Promise<DeleteBucketReply> {
    const deletionId = this.ctx.newId();
    const sealed = await this.execute({ type: 'BeginBucketDeletion', bucket, deletionId, startedAt: this.ctx.nowIso() });
    try {
      await this.projection.waitFor('META', sealed.sequence);
      const versionCount = await (await this.readModel.queries(BucketQueries)).countBucketVersions(bucket, EMPTINESS_COUNT_CAP);
      const deleted = await this.execute({ type: 'DeleteBucket', bucket, deletionId, versionCount, deletedAt: this.ctx.nowIso() });
      return { sequence: deleted.sequence };
    } catch (error) {
      await this.execute({ type: 'CancelBucketDeletion', bucket, deletionId });
      throw error;
    }
  }

  async setVersioning(bucket: string, versioning: string): Promise<SetBucketVersioningReply> {
    const handled = await this.execute({ type: 'SetBucketVersioning', bucket, versioning });
    return { sequence: handled.sequence, versioning: versioningOf(handled.state) };
  }

  /** `origin`: the command applies another region's change of the bucket (replication). */
  async execute(command: BucketCommand, origin?: string) {
    validateBucketName(command.bucket);
    return this.ctx.run(bucketDecider, this.ctx.subjects.bucket(command.bucket), command.bucket, command, undefined, origin);
  }

  /** The bucket as its own subject says now (current, unlike the projection). */
  async read(bucket: string): Promise<BucketRead> {
    // Before the name becomes a subject token: "*", ">" or spaces must never reach NATS.
    validateBucketName(bucket);
    const read = await this.ctx.load(bucketDecider, this.ctx.subjects.bucket(bucket));
    return { ...read, incarnation: bucketIncarnation(read.stored) };
  }

  /** A bucket that takes new keys: it exists and no delete has sealed it. */
  async requireWritable(bucket: string): Promise<WritableBucket> {
    const read = await this.read(bucket);
    return { bucket: requireWritable(read.state, bucket), sequence: read.sequence, incarnation: read.incarnation };
  }

  /**
   * After a key write appended: if the bucket subject moved since `sequenceRead`, the write may have
   * raced a delete. It is acknowledged only if the bucket is still there, in the same life, and
   * unsealed — then any later seal follows the write in the stream and its count sees it. A write
   * into a life that has ended stays in the key's history but never counts (its incarnation is old).
   */
  async confirmWritable(bucket: string, read: { readonly sequence: number; readonly incarnation: number }): Promise<void> {
    const last = await this.ctx.store.lastSequence(this.ctx.subjects.bucket(bucket));
    if (last === read.sequence) return;
    const now = await this.read(bucket);
    requireWritable(now.state, bucket);
    if (now.incarnation !== read.incarnation) {
      throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} was deleted and created again`, { bucket });
    }
  }
}

function requireWritable(state: BucketState, bucket: string): LiveBucket {
  if (state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
  if (state.deletionId !== null) {
    throw new MetadataError(MetadataErrorCodes.OperationAborted, `bucket ${bucket} is being deleted`, { bucket });
  }
  return state;
}

function versioningOf(state: BucketState): VersioningStatus {
  return state.status === 'live' ? state.versioning : 'Unversioned';
}
