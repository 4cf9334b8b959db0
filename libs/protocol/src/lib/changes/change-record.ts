import type { EventEnvelope } from '../envelope';
import type { Tag } from '../metadata/common';
import type { ConflictSide, ObjectKeyEvent } from '../metadata/object.events';

/**
 * The change feed (docs/change-feed.md): what users see of a bucket's changes. One record per
 * object-key event of META that a user would call a change; internal fields (chunk lists, inline
 * bytes, checksums, version vectors, incarnations) never appear in it.
 */
export const CHANGE_RECORD_SCHEMA_VERSION = 1;

/**
 * - `object.created`: a new version (PUT, copy, completed multipart upload), or one that arrived
 *   from another region.
 * - `object.delete-marker`: a delete marker was put (a DELETE without a version id).
 * - `object.deleted`: a version, or a delete marker, was removed for good.
 * - `object.tags`: a version's tags were replaced (`tags` holds the new set, empty once removed).
 * - `object.conflict`: two regions changed the key concurrently; `conflict` says which change
 *   won (it is current) and which lost (kept as noncurrent, or dropped when it was a delete).
 */
export const ChangeTypes = ['object.created', 'object.delete-marker', 'object.deleted', 'object.tags', 'object.conflict'] as const;
export type ChangeType = (typeof ChangeTypes)[number];

export interface ChangeConflictSide {
  readonly versionId: string;
  readonly region: string;
  readonly kind: ConflictSide['kind'];
}

/** A change as it is stored on the CHANGES stream, one message per record on `changes.<bucket>`. */
export interface ChangeRecord {
  readonly schemaVersion: number;
  /**
   * The id of the event the change comes from: the same for every delivery of the same change
   * (delivery is at least once, so a consumer that must not apply a change twice keys on it).
   */
  readonly id: string;
  readonly type: ChangeType;
  readonly bucket: string;
  readonly key: string;
  /** The version created, removed, tagged, or the winning version of a conflict. */
  readonly versionId: string;
  /** Hex MD5 (or multipart etag) of a created version; null for every other type. */
  readonly etag: string | null;
  /** Size of a created version; null for every other type. */
  readonly sizeBytes: number | null;
  /** True for a delete marker put, or one removed by `object.deleted`. */
  readonly isDeleteMarker: boolean;
  /**
   * For `object.created` and `object.delete-marker`: whether the version became the key's
   * current one (false for a change from another region that lost to a newer one here). Null
   * for the other types.
   */
  readonly isLatest: boolean | null;
  /** `object.tags` only: the version's tags now. */
  readonly tags?: readonly Tag[];
  /** `object.conflict` only. */
  readonly conflict?: { readonly winner: ChangeConflictSide; readonly loser: ChangeConflictSide };
  /** The region where the change was made (for a replicated change, the region it came from). */
  readonly region: string;
  /** Hybrid logical clock of the change; orders changes of one key across regions. */
  readonly hlc: string;
  /** Wall-clock time of the change at the region that made it (for people; never for ordering). */
  readonly occurredAt: string;
  /**
   * When the bucket the change belongs to was created (its BucketView's createdAt): tells a bucket
   * that was deleted and created again under the same name from the one before. Absent when
   * unknown.
   */
  readonly bucketCreatedAt?: string;
}

/** A record as the HTTP feed serves it: with its cursor, the CHANGES stream sequence, as a string. */
export interface ChangeFeedRecord extends ChangeRecord {
  readonly cursor: string;
}

/** One long-poll answer: the records after the cursor asked for, and where to ask next. */
export interface ChangeFeedPage {
  readonly bucket: string;
  readonly records: readonly ChangeFeedRecord[];
  /** Pass it back as `cursor` for the records after these; the same cursor when there were none. */
  readonly nextCursor: string;
}

/** What the mapping needs besides the event: facts the feeder looked up. */
export interface ChangeRecordContext {
  /** The createdAt of the bucket life the event's incarnation names, if the feeder found it. */
  readonly bucketCreatedAt?: string;
}

/**
 * The user-facing change of one object-key event, or undefined for an event that changes nothing
 * a user can see (a replicated change that was skipped, a type this code does not know yet).
 * Pure: everything it needs is in the envelope and the context.
 */
export function changeRecordOf(envelope: EventEnvelope, context: ChangeRecordContext = {}): ChangeRecord | undefined {
  const event = { type: envelope.type, data: envelope.data } as ObjectKeyEvent;
  const region = envelope.origin ?? envelope.region;
  const base = {
    schemaVersion: CHANGE_RECORD_SCHEMA_VERSION,
    id: envelope.id,
    region,
    ...(context.bucketCreatedAt === undefined ? {} : { bucketCreatedAt: context.bucketCreatedAt }),
  };
  switch (event.type) {
    case 'ObjectVersionPut':
    case 'ObjectVersionCopied': {
      const d = event.data;
      return {
        ...base,
        type: 'object.created',
        bucket: d.bucket,
        key: d.key,
        versionId: d.versionId,
        etag: d.etag,
        sizeBytes: d.sizeBytes,
        isDeleteMarker: false,
        isLatest: d.noncurrent !== true,
        hlc: d.hlc,
        occurredAt: d.lastModified,
      };
    }
    case 'DeleteMarkerPut': {
      const d = event.data;
      return {
        ...base,
        type: 'object.delete-marker',
        bucket: d.bucket,
        key: d.key,
        versionId: d.versionId,
        etag: null,
        sizeBytes: null,
        isDeleteMarker: true,
        isLatest: d.noncurrent !== true,
        hlc: d.hlc,
        occurredAt: d.lastModified,
      };
    }
    case 'ObjectVersionDeleted': {
      const d = event.data;
      return {
        ...base,
        type: 'object.deleted',
        bucket: d.bucket,
        key: d.key,
        versionId: d.versionId,
        etag: null,
        sizeBytes: null,
        isDeleteMarker: d.wasDeleteMarker,
        isLatest: null,
        hlc: envelope.hlc,
        occurredAt: envelope.occurredAt,
      };
    }
    case 'ObjectTagsSet':
    case 'ObjectTagsDeleted': {
      const d = event.data;
      const tags = event.type === 'ObjectTagsSet' ? event.data.tags.map((t) => ({ key: t.key, value: t.value })) : [];
      return {
        ...base,
        type: 'object.tags',
        bucket: d.bucket,
        key: d.key,
        versionId: d.versionId,
        etag: null,
        sizeBytes: null,
        isDeleteMarker: false,
        isLatest: null,
        tags,
        hlc: envelope.hlc,
        occurredAt: envelope.occurredAt,
      };
    }
    case 'ConflictResolved': {
      const d = event.data;
      const side = (s: ConflictSide, versionId: string): ChangeConflictSide => ({ versionId, region: s.region, kind: s.kind });
      return {
        ...base,
        type: 'object.conflict',
        bucket: d.bucket,
        key: d.key,
        versionId: d.winner.versionId,
        etag: null,
        sizeBytes: null,
        isDeleteMarker: d.winner.kind === 'delete-marker',
        isLatest: null,
        conflict: { winner: side(d.winner, d.winner.versionId), loser: side(d.loser, d.loserVersionId ?? d.loser.versionId) },
        hlc: envelope.hlc,
        occurredAt: d.resolvedAt,
      };
    }
    default:
      // Not a change users see (e.g. a replicated change that was skipped), or a newer type.
      return undefined;
  }
}

/** Whether a decoded message is a change record this code can read (a newer schema is refused). */
export function isChangeRecord(value: unknown): value is ChangeRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v['schemaVersion'] === CHANGE_RECORD_SCHEMA_VERSION &&
    typeof v['id'] === 'string' &&
    typeof v['type'] === 'string' &&
    (ChangeTypes as readonly string[]).includes(v['type']) &&
    typeof v['bucket'] === 'string' &&
    typeof v['key'] === 'string' &&
    typeof v['versionId'] === 'string'
  );
}
