import { Injectable } from '@nestjs/common';
import { keyIdOf } from '@cairn/hashing';
import { NatsConnectionManager } from '@cairn/messaging';
import {
  HISTORY_LIST_LIMIT_MAX,
  MetadataErrorCodes,
  RESTORE_PLAN_LIMIT_MAX,
  RESTORE_PLAN_PAGE_BYTES_MAX,
  type HistoryHeadReply,
  type HistoryHeadRequest,
  type HistoryListReply,
  type HistoryListRequest,
  type RestoreAction,
  type HistoryEvent,
  type HistoryHeadFromEventsRequest,
  type HistoryListFromEventsReply,
  type HistoryListFromEventsRequest,
  type HistoryObjectSummary,
  type RestorePlanFromEventsReply,
  type RestorePlanFromEventsRequest,
  type RestorePlanReply,
  type RestorePlanRequest,
  currentEnvelope,
} from '@cairn/protocol';
import type { StoredEvent } from '@cairn/eventing';
import { bucketAsOf, keyAsOf, liveVersion, parseMoment, restoreActionFor, restoreActionsForRange, type BucketAsOf } from '../domain/point-in-time/point-in-time';
import { versionToServe } from '@cairn/key-reads';
import { validateObjectKey } from '../domain/shared/validation';
import { MetadataError } from '../domain/shared/metadata.errors';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { BucketHistoryReader, type BucketHistorySnapshot } from './bucket-history.reader';
import { RestoreTargetReader } from './restore-target.reader';

/**
 * Reads of the namespace as of a moment, and restore plans (docs/backups.md). All of it comes from
 * the event log (META), not the projection: a key whose versions were all deleted since still has
 * its events.
 */
@Injectable()
export class PointInTimeService {
  private readonly history: BucketHistoryReader;
  private readonly target: RestoreTargetReader;

  constructor(
    private readonly ctx: MetadataCommandContext,
    nats: NatsConnectionManager,
    readModel: MetadataReadModel,
  ) {
    this.history = new BucketHistoryReader(nats, ctx);
    this.target = new RestoreTargetReader(ctx, readModel);
  }

  async list(request: HistoryListRequest): Promise<HistoryListReply> {
    const atMs = parseMoment(request.at);
    const limit = limitOf(request.limit, HISTORY_LIST_LIMIT_MAX);
    const bucket = await this.bucketAt(request.bucket, atMs);
    const snapshot = await this.history.read(request.bucket, atMs, Boolean(request.after));
    const prefix = request.prefix ?? '';
    const after = request.after ?? '';
    const objects: HistoryListReply['objects'][number][] = [];
    let nextAfter: string | null = null;
    for (const timeline of keysFrom(snapshot, prefix, after)) {
      const live = liveVersion(timeline.then, bucket.incarnation);
      if (!live) continue;
      if (objects.length === limit) {
        nextAfter = objects[objects.length - 1].key;
        break;
      }
      objects.push(summaryOf(timeline.key, live));
    }
    return { bucket: request.bucket, at: new Date(atMs).toISOString(), objects, nextAfter, asOfSequence: snapshot.sequence };
  }

  async head(request: HistoryHeadRequest): Promise<HistoryHeadReply> {
    const atMs = parseMoment(request.at);
    if (typeof request.key !== 'string') throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a key is required');
    validateObjectKey(request.key);
    const bucket = await this.bucketAt(request.bucket, atMs);
    const read = await this.ctx.store.read(this.ctx.subjects.object(request.bucket, keyIdOf(request.key)));
    return versionToServe(keyAsOf(read.events, atMs), bucket.incarnation, request.bucket, request.key, request.versionId);
  }

  /**
   * A page of what restoring `bucket` (under `prefix`) to the moment takes, in key order: for each
   * key whose live state then differs from the target's now, a put of the old content or a delete.
   */
  async restorePlan(request: RestorePlanRequest): Promise<RestorePlanReply> {
    const atMs = parseMoment(request.at);
    const limit = limitOf(request.limit, RESTORE_PLAN_LIMIT_MAX);
    const source = await this.bucketAt(request.bucket, atMs);
    const target = request.to ?? request.bucket;
    const targetNow = await this.bucketAt(target, Number.MAX_SAFE_INTEGER);
    const continuing = request.snapshot !== undefined;
    const snapshot = await this.history.read(request.bucket, atMs, continuing);
    const prefix = request.prefix ?? '';
    const targetKeys = target === request.bucket ? null : new Map((await this.history.read(target, atMs, continuing)).keys.map((t) => [t.key, t]));
    const actions: RestoreAction[] = [];
    let bytes = 0;
    let scannedKeys = 0;
    let nextAfter: string | null = null;
    const underPrefix = keysFrom(snapshot, prefix, '');
    const totalKeys = underPrefix.length;
    const after = request.after ?? '';
    for (const timeline of underPrefix) {
      if (timeline.key <= after && after !== '') continue;
      const desired = liveVersion(timeline.then, source.incarnation);
      const targetTimeline = targetKeys === null ? timeline : targetKeys.get(timeline.key);
      const actual = targetTimeline ? liveVersion(targetTimeline.now, targetNow.incarnation) : null;
      const action = restoreActionFor(timeline.key, desired, actual);
      if (action) {
        const size = JSON.stringify(action).length;
        if (actions.length >= limit || (actions.length > 0 && bytes + size > RESTORE_PLAN_PAGE_BYTES_MAX)) {
          nextAfter = actions[actions.length - 1].key;
          break;
        }
        actions.push(action);
        bytes += size;
      }
      scannedKeys++;
    }
    // Keys of the target under the prefix that the source never had: deleted too (a restore into another bucket).
    if (targetKeys !== null && nextAfter === null) {
      const inSource = new Set(underPrefix.map((t) => t.key));
      for (const [key, t] of targetKeys) {
        if (!key.startsWith(prefix) || inSource.has(key) || (after !== '' && key <= after)) continue;
        const live = liveVersion(t.now, targetNow.incarnation);
        if (live) actions.push({ kind: 'delete', key, currentEtag: live.etag });
      }
    }
    return { actions, scannedKeys, totalKeys, nextAfter, snapshot: snapshot.sequence };
  }

  /**
   * A page of a restore whose source history comes from a backup (the scheduler read it from the
   * backup's segments): folded as of the moment here, compared with the target's state now.
   */
  async restorePlanFromEvents(request: RestorePlanFromEventsRequest): Promise<RestorePlanFromEventsReply> {
    const atMs = parseMoment(request.at);
    if (!Array.isArray(request.bucketEvents) || !Array.isArray(request.keys) || typeof request.after !== 'string' || (request.through !== null && typeof request.through !== 'string')) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'bucketEvents, keys, after and through are required');
    }
    const source = this.bucketFromEvents(request.bucket, request.bucketEvents, atMs);
    const target = request.to ?? request.bucket;
    const targetNow = await this.bucketAt(target, Number.MAX_SAFE_INTEGER);
    const sourceKeys = request.keys.map((k) => ({ key: k.key, then: keyAsOf(storedOf(k.events), atMs) }));
    const range = { prefix: request.prefix ?? '', after: request.after, through: request.through };
    const targetKeys = await this.target.keysNow(target, range, sourceKeys.map((k) => k.key));
    const actions = restoreActionsForRange({ sourceKeys, sourceIncarnation: source.incarnation, targetKeys, targetIncarnation: targetNow.incarnation, ...range });
    return { actions, scannedKeys: sourceKeys.length };
  }

  /** The live objects among the keys given, folded as of the moment from a backup's events. */
  listFromEvents(request: HistoryListFromEventsRequest): HistoryListFromEventsReply {
    const atMs = parseMoment(request.at);
    if (!Array.isArray(request.keys)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'keys are required');
    const bucket = this.bucketFromEvents(request.bucket, request.bucketEvents, atMs);
    const objects: HistoryObjectSummary[] = [];
    for (const k of request.keys) {
      const live = liveVersion(keyAsOf(storedOf(k.events), atMs), bucket.incarnation);
      if (live) objects.push(summaryOf(k.key, live));
    }
    return { objects };
  }

  /** One key's version as of the moment from a backup's events, answered as head() answers. */
  headFromEvents(request: HistoryHeadFromEventsRequest): HistoryHeadReply {
    const atMs = parseMoment(request.at);
    if (typeof request.key !== 'string' || !Array.isArray(request.events)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a key and its events are required');
    validateObjectKey(request.key);
    const bucket = this.bucketFromEvents(request.bucket, request.bucketEvents, atMs);
    return versionToServe(keyAsOf(storedOf(request.events), atMs), bucket.incarnation, request.bucket, request.key, request.versionId);
  }

  private bucketFromEvents(bucket: string, events: readonly HistoryEvent[], atMs: number): BucketAsOf {
    if (!Array.isArray(events)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'bucketEvents are required');
    const asOf = bucketAsOf(storedOf(events), atMs);
    if (asOf.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} did not exist at ${new Date(atMs).toISOString()} (as the backup tells it)`, { bucket });
    return asOf;
  }

  /** The bucket as of the moment; NoSuchBucket when it did not exist then. */
  private async bucketAt(bucket: string, atMs: number): Promise<BucketAsOf> {
    if (typeof bucket !== 'string' || bucket === '') throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a bucket is required');
    const read = await this.ctx.store.read(this.ctx.subjects.bucket(bucket));
    const asOf = bucketAsOf(read.events, atMs);
    if (asOf.state.status !== 'live') {
      const when = atMs === Number.MAX_SAFE_INTEGER ? '' : ` at ${new Date(atMs).toISOString()}`;
      throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} did not exist${when}`, { bucket });
    }
    return asOf;
  }
}

function summaryOf(key: string, live: NonNullable<ReturnType<typeof liveVersion>>): HistoryObjectSummary {
  return { key, versionId: live.versionId, sizeBytes: live.sizeBytes, etag: live.etag ?? '', lastModified: live.lastModified, storageClass: live.storageClass };
}

function keysFrom(snapshot: BucketHistorySnapshot, prefix: string, after: string) {
  return snapshot.keys.filter((t) => t.key.startsWith(prefix) && (after === '' || t.key > after));
}

function limitOf(limit: unknown, max: number): number {
  if (limit === undefined || limit === null) return max;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `limit must be an integer 1..${max}`);
  return n;
}

/** A backup's events as stored events, upcast to the current schema as a read from the stream would be. */
function storedOf(events: readonly HistoryEvent[]): StoredEvent[] {
  return events.map((e) => {
    try {
      return { envelope: currentEnvelope(e.event, `backup event #${e.seq}`), sequence: e.seq };
    } catch (error) {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, (error as Error).message);
    }
  });
}
