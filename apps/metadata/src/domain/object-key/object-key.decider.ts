import { MetadataErrorCodes, MetadataLimits, NULL_VERSION_ID, type AccessControlList, type Tag, type VersioningStatus } from '@cairn/protocol';
import { assertNever, type Decider } from '@cairn/eventing';
import { EMPTY_VERSION_VECTOR, mergeVersionVectors, type VersionVector } from '@cairn/hashing';
import { LEGACY_INCARNATION } from '@cairn/key-reads';
import { MetadataError } from '../shared/metadata.errors';
import {
  isSha256Hex,
  normalizeEtag,
  requireText,
  validateChunks,
  validateContentHeaders,
  validateObjectKey,
  validatePartSizes,
  validateStorageClass,
  validateTags,
  validateUserMetadata,
} from '../shared/validation';
import type { ApplyReplicatedChange, ObjectKeyCommand, WriteConditions } from './object-key.commands';
import { compareChanges, hlcAfter, nextLocalVector, type OrderedChange } from './key-change-order';
import { decideReplicatedChange } from './object-key.replication';
import { assertRemovable, decideRewrapDataKey, decideSetObjectLock, lockOfWrite, protectionOf, type VersionProtection } from './object-key.protection';
import { checkExpectedVersion } from './lifecycle-expectation';
import { aclOfWrite, decidePutObjectAcl } from './object-acl';
import type { BucketLife, ObjectKeyEvent, ObjectKeyRef } from './object-key.events';

/** A plain MD5 hex etag, or S3's multipart form `<md5 of md5s>-<part count>`. */
const ETAG_PATTERN = /^[0-9a-f]{32}(-[1-9][0-9]{0,4})?$/;

export interface KeyVersion extends OrderedChange, VersionProtection {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  /** Null for delete markers. */
  readonly etag: string | null;
  readonly tags: readonly Tag[];
  /** The key's version vector when the version was written; null for versions from before regions federated. */
  readonly vector: VersionVector | null;
  /** Null for delete markers. */
  readonly storageClass: string | null;
  /** The version's size in bytes (0 for delete markers): a class change must keep it. */
  readonly sizeBytes: number;
  /** The version's ACL; absent: private, owned by the bucket's owner. */
  readonly acl?: AccessControlList;
}

/** Shared with the key's read fold (@cairn/key-reads). */
export { LEGACY_INCARNATION };

/** The key's versions, newest first: the first one is current (S3 orders versions by write). */
export interface ObjectKeyState {
  /** The bucket life these versions belong to (BucketLife in @cairn/protocol). */
  readonly incarnation: number;
  readonly versions: readonly KeyVersion[];
  /**
   * Multipart uploads whose completion has put a version on the key in this life. A completion is
   * retried (its caller timed out) by putting again; this tells the retry from a new write even
   * when the version has since been replaced — as an unversioned key's null version always is.
   */
  readonly completedUploads: readonly string[];
  /** Every change of the key this region has seen, per region that made it (docs/replication.md). */
  readonly vector: VersionVector;
}

/**
 * One object key: its versions and delete markers with S3's semantics. The bucket's versioning
 * status comes in each command (the shell reads it), because it decides whether a write makes a new
 * version or replaces the `null` one.
 *
 * The key's subject outlives its bucket: a bucket name deleted and created again reuses it. Each
 * command and event carries the bucket life (incarnation) it belongs to, and only the newest life
 * counts: a command of a newer life than the state's decides on an empty key, and events of an older
 * life than the state's (a write that raced the delete and was never acknowledged) are ignored.
 */
export const objectKeyDecider: Decider<ObjectKeyCommand, ObjectKeyEvent, ObjectKeyState> = {
  initialState: emptyKey,

  decide(command, folded) {
    validateKeyRef(command);
    const state = stateInLife(folded, command);
    const ref: ObjectKeyRef & BucketLife = { bucket: command.bucket, key: command.key, keyId: command.keyId, incarnation: command.incarnation };
    if (command.type === 'ApplyReplicatedChange') return decideReplicatedChange(command, state, ref);
    const decided = decideLocal(command, state, ref);
    return command.region === undefined ? decided : withProvenance(decided, state, command.region);
  },

  evolve(folded, event) {
    const state = lifeOfEvent(folded, event.data.incarnation);
    if (state === undefined) return folded;
    const next = evolveKey(state, event);
    const vector = 'vector' in event.data ? event.data.vector : undefined;
    return vector === undefined ? next : { ...next, vector: mergeVersionVectors(next.vector, vector) };
  },
};

function emptyKey(incarnation = LEGACY_INCARNATION): ObjectKeyState {
  return { incarnation, versions: [], completedUploads: [], vector: EMPTY_VERSION_VECTOR };
}

function decideLocal(command: Exclude<ObjectKeyCommand, ApplyReplicatedChange>, state: ObjectKeyState, ref: ObjectKeyRef & BucketLife): ObjectKeyEvent[] {
    switch (command.type) {
      case 'PutObjectVersion': {
        validateEtag(command.etag);
        validateChunks(command.chunks, command.sizeBytes);
        validateUserMetadata(command.userMetadata);
        const contentHeaders = command.contentHeaders ?? {};
        validateContentHeaders(contentHeaders);
        if (command.partSizes !== undefined) {
          if (command.uploadId === undefined) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'only a completed upload has part sizes');
          validatePartSizes(command.partSizes, command.sizeBytes, command.etag);
        }
        validateStorageClass(command.storageClass);
        const tags = command.tags ?? [];
        validateTags(tags, MetadataLimits.objectTagsMax);
        const versionId = newVersionId(command.versioning, command.versionId);
        if (isRetriedWrite(state, versionId, command.etag)) return [];
        if (command.uploadId !== undefined && state.completedUploads.includes(command.uploadId)) return [];
        checkConditions(state, command);
        if (versionId === NULL_VERSION_ID) {
          const replaced = state.versions.find((v) => v.versionId === NULL_VERSION_ID);
          if (replaced) assertRemovable(replaced, command.key, command.lastModified, false);
        }
        return [
          {
            type: 'ObjectVersionPut',
            data: {
              ...ref,
              versionId,
              sizeBytes: command.sizeBytes,
              etag: command.etag,
              checksums: command.checksums,
              contentType: command.contentType,
              userMetadata: command.userMetadata,
              contentHeaders,
              chunks: command.chunks,
              storageClass: command.storageClass,
              tags,
              hlc: command.hlc,
              lastModified: command.lastModified,
              ...(command.uploadId === undefined ? {} : { uploadId: command.uploadId }),
              ...(command.partSizes === undefined ? {} : { partSizes: command.partSizes }),
              ...(command.encryption === undefined ? {} : { encryption: command.encryption }),
              ...lockOfWrite(command),
              ...aclOfWrite(command),
            },
          },
        ];
      }
      case 'CopyObject': {
        const { source } = command;
        validateEtag(source.etag);
        validateChunks(source.chunks, source.sizeBytes);
        if (command.chunks !== undefined) validateChunks(command.chunks, source.sizeBytes);
        const replaceMetadata = command.metadataDirective === 'REPLACE';
        const storageClass = validateStorageClass(command.storageClass ?? source.storageClass);
        const userMetadata = replaceMetadata ? (command.userMetadata ?? {}) : source.userMetadata;
        validateUserMetadata(userMetadata);
        const contentHeaders = replaceMetadata ? (command.contentHeaders ?? {}) : (source.contentHeaders ?? {});
        validateContentHeaders(contentHeaders);
        if (source.partSizes !== undefined) validatePartSizes(source.partSizes, source.sizeBytes, source.etag);
        const tags = command.taggingDirective === 'REPLACE' ? (command.tags ?? []) : source.tags;
        validateTags(tags, MetadataLimits.objectTagsMax);
        const copiesOntoItself =
          source.bucket === command.bucket && source.key === command.key && !replaceMetadata && storageClass === source.storageClass && command.encryption === undefined;
        if (copiesOntoItself) {
          throw new MetadataError(
            MetadataErrorCodes.InvalidRequest,
            'copying an object onto itself must change its metadata, storage class or encryption',
          );
        }
        const versionId = newVersionId(command.versioning, command.versionId);
        if (isRetriedWrite(state, versionId, source.etag)) return [];
        checkConditions(state, command);
        if (versionId === NULL_VERSION_ID) {
          const replaced = state.versions.find((v) => v.versionId === NULL_VERSION_ID);
          if (replaced) assertRemovable(replaced, command.key, command.lastModified, false);
        }
        const encryption = command.encryption ?? source.encryption;
        return [
          {
            type: 'ObjectVersionCopied',
            data: {
              ...ref,
              versionId,
              sizeBytes: source.sizeBytes,
              etag: source.etag,
              checksums: source.checksums,
              contentType: replaceMetadata ? (command.contentType ?? source.contentType) : source.contentType,
              userMetadata,
              contentHeaders,
              chunks: command.chunks ?? source.chunks,
              storageClass,
              tags,
              hlc: command.hlc,
              lastModified: command.lastModified,
              source: { bucket: source.bucket, key: source.key, versionId: source.versionId },
              ...(source.partSizes === undefined ? {} : { partSizes: source.partSizes }),
              ...(encryption === undefined ? {} : { encryption }),
              ...lockOfWrite(command),
              ...aclOfWrite(command),
            },
          },
        ];
      }
      case 'DeleteObject': {
        checkExpectedVersion(state.versions, command.key, state.versions[0], command.expect);
        if (command.ifMatch !== undefined) checkDeleteCondition(state, command.key, command.ifMatch);
        if (command.versioning === 'Unversioned') {
          const nullVersion = state.versions.find((v) => v.versionId === NULL_VERSION_ID);
          if (nullVersion) assertRemovable(nullVersion, command.key, command.lastModified, false);
          return nullVersion ? [versionDeleted(ref, state, nullVersion)] : [];
        }
        const versionId = newVersionId(command.versioning, command.versionId);
        return [{ type: 'DeleteMarkerPut', data: { ...ref, versionId, hlc: command.hlc, lastModified: command.lastModified } }];
      }
      case 'DeleteObjectVersion': {
        const version = state.versions.find((v) => v.versionId === command.versionId);
        if (!version) throw noSuchVersion(command.key, command.versionId);
        checkExpectedVersion(state.versions, command.key, version, command.expect);
        if (command.ifMatch !== undefined) checkDeleteCondition(state, command.key, command.ifMatch);
        assertRemovable(version, command.key, command.now ?? '', command.bypassGovernance === true);
        return [versionDeleted(ref, state, version)];
      }
      case 'SetObjectLock':
        return decideSetObjectLock(command, state, ref);
      case 'RewrapDataKey':
        return decideRewrapDataKey(command, state, ref);
      case 'PutObjectAcl':
        return decidePutObjectAcl(command, state, ref);
      case 'PutObjectTags': {
        validateTags(command.tags, MetadataLimits.objectTagsMax);
        const target = taggableVersion(state, command.key, command.versionId);
        return [{ type: 'ObjectTagsSet', data: { ...ref, versionId: target.versionId, tags: command.tags } }];
      }
      case 'DeleteObjectTags': {
        const target = taggableVersion(state, command.key, command.versionId);
        if (target.tags.length === 0) return [];
        return [{ type: 'ObjectTagsDeleted', data: { ...ref, versionId: target.versionId } }];
      }
      case 'ChangeStorageClass': {
        const storageClass = validateStorageClass(command.storageClass);
        const fromStorageClass = validateStorageClass(command.fromStorageClass);
        const version = state.versions.find((v) => v.versionId === command.versionId);
        if (!version) throw noSuchVersion(command.key, command.versionId);
        if (version.isDeleteMarker) {
          throw new MetadataError(MetadataErrorCodes.MethodNotAllowed, `version ${command.versionId} of ${command.key} is a delete marker`, { key: command.key, versionId: command.versionId });
        }
        // A retry of a change made already (rewrites are deterministic: the same chunks).
        if (version.storageClass === storageClass && version.etag === command.etag) return [];
        if (version.storageClass !== fromStorageClass || version.etag !== command.etag) {
          throw new MetadataError(
            MetadataErrorCodes.PreconditionFailed,
            `version ${command.versionId} of ${command.key} is no longer ${fromStorageClass} with etag ${command.etag}`,
            { condition: 'storage-class' },
          );
        }
        validateChunks(command.chunks, version.sizeBytes);
        return [
          {
            type: 'ObjectVersionStorageClassChanged',
            data: { ...ref, versionId: version.versionId, previousStorageClass: fromStorageClass, storageClass, chunks: command.chunks, changedAt: command.changedAt },
          },
        ];
      }
      default:
        return assertNever(command, 'object key command');
    }
}

function evolveKey(state: ObjectKeyState, event: ObjectKeyEvent): ObjectKeyState {
    switch (event.type) {
      case 'ObjectVersionPut': {
        const placed = placeVersion(state, versionOf(event), event.data.noncurrent === true);
        const { uploadId } = event.data;
        return uploadId === undefined ? placed : { ...placed, completedUploads: [...placed.completedUploads, uploadId] };
      }
      case 'ObjectVersionCopied':
      case 'DeleteMarkerPut':
        return placeVersion(state, versionOf(event), event.data.noncurrent === true);
      case 'ObjectVersionDeleted':
        return { ...state, versions: state.versions.filter((v) => v.versionId !== event.data.versionId) };
      case 'ObjectTagsSet':
        return retag(state, event.data.versionId, event.data.tags);
      case 'ObjectTagsDeleted':
        return retag(state, event.data.versionId, []);
      case 'ObjectAclSet':
        return { ...state, versions: state.versions.map((v) => (v.versionId === event.data.versionId ? { ...v, acl: event.data.acl } : v)) };
      case 'ConflictResolved': {
        const { renamed } = event.data;
        if (!renamed) return state;
        return { ...state, versions: state.versions.map((v) => (v.versionId === renamed.from && v.hlc === renamed.hlc ? { ...v, versionId: renamed.to } : v)) };
      }
      case 'ReplicatedChangeSkipped':
        return state;
      case 'ObjectLockChanged': {
        const { versionId, retention, legalHold } = event.data;
        return {
          ...state,
          versions: state.versions.map((v) =>
            v.versionId === versionId ? { ...v, ...(retention === undefined ? {} : { retention }), ...(legalHold === undefined ? {} : { legalHold }) } : v,
          ),
        };
      }
      case 'ObjectDataKeyRewrapped':
        return { ...state, versions: state.versions.map((v) => (v.versionId === event.data.versionId ? { ...v, encryptionKeyId: event.data.encryption.keyId } : v)) };
      case 'ObjectVersionStorageClassChanged':
        return { ...state, versions: state.versions.map((v) => (v.versionId === event.data.versionId ? { ...v, storageClass: event.data.storageClass } : v)) };
      default:
        return assertNever(event, 'object key event');
    }
}

type VersionEvent = Extract<ObjectKeyEvent, { type: 'ObjectVersionPut' | 'ObjectVersionCopied' | 'DeleteMarkerPut' }>;

function versionOf(event: VersionEvent): KeyVersion {
  const d = event.data;
  const marker = event.type === 'DeleteMarkerPut';
  return {
    versionId: d.versionId,
    isDeleteMarker: marker,
    etag: marker ? null : event.data.etag,
    tags: marker ? [] : event.data.tags,
    hlc: d.hlc,
    region: d.region ?? '',
    vector: d.vector ?? null,
    ...(marker ? {} : protectionOf(event.data)),
    storageClass: marker ? null : event.data.storageClass,
    sizeBytes: marker ? 0 : event.data.sizeBytes,
    ...(marker || event.data.acl === undefined ? {} : { acl: event.data.acl }),
  };
}

/**
 * Stamps a region's own changes with their provenance: the region, the key's vector counting the
 * change, and (for a new version) an HLC after every version the key holds — so that the version a
 * region puts on top is also the newest by the order every other region sorts it by.
 */
function withProvenance(events: ObjectKeyEvent[], state: ObjectKeyState, region: string): ObjectKeyEvent[] {
  let vector = state.vector;
  const newest = state.versions.reduce<string | null>((max, v) => (max === null || v.hlc > max ? v.hlc : max), null);
  return events.map((event) => {
    vector = nextLocalVector(vector, region);
    switch (event.type) {
      case 'ObjectVersionPut':
      case 'ObjectVersionCopied':
      case 'DeleteMarkerPut':
        return { ...event, data: { ...event.data, hlc: hlcAfter(event.data.hlc, newest), region, vector } } as ObjectKeyEvent;
      case 'ObjectVersionDeleted': {
        const removed = state.versions.find((v) => v.versionId === event.data.versionId);
        return { ...event, data: { ...event.data, ...(removed ? { versionHlc: removed.hlc } : {}), region, vector } };
      }
      case 'ObjectTagsSet':
      case 'ObjectTagsDeleted':
      case 'ObjectAclSet':
      case 'ObjectLockChanged':
        return { ...event, data: { ...event.data, region, vector } } as ObjectKeyEvent;
      case 'ObjectDataKeyRewrapped':
        // Each region's own record: its keys are its own (docs/encryption.md).
        return event;
      case 'ConflictResolved':
      case 'ReplicatedChangeSkipped':
      case 'ObjectVersionStorageClassChanged':
        // Each region's own record: counting it in the vector would make the others wait for it.
        return event;
      default:
        return assertNever(event, 'object key event');
    }
  });
}

/**
 * The state a command decides on. A newer life than the state's starts from an empty key; an older
 * one means the bucket the shell read has been deleted (and created again) since.
 */
function stateInLife(state: ObjectKeyState, command: ObjectKeyCommand): ObjectKeyState {
  const { incarnation } = command;
  if (!Number.isSafeInteger(incarnation) || incarnation <= LEGACY_INCARNATION) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `bucket incarnation ${String(incarnation)} is not a positive integer`);
  }
  if (state.incarnation === LEGACY_INCARNATION) return state;
  if (incarnation > state.incarnation) return emptyKey(incarnation);
  if (incarnation < state.incarnation) {
    throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${command.bucket} was deleted and created again`, { bucket: command.bucket });
  }
  return state;
}

/**
 * The state an event applies to, or undefined when the event belongs to an older life than the
 * state's and is ignored. Events without an incarnation (legacy) apply to the current life.
 */
function lifeOfEvent(state: ObjectKeyState, eventIncarnation: number | undefined): ObjectKeyState | undefined {
  if (eventIncarnation === undefined || eventIncarnation === state.incarnation) return state;
  if (state.incarnation === LEGACY_INCARNATION) return { ...state, incarnation: eventIncarnation };
  if (eventIncarnation > state.incarnation) return emptyKey(eventIncarnation);
  return undefined;
}

/**
 * A new version goes on top; a new `null` version (or null delete marker) replaces the old one. A
 * version that lost a conflict on arrival goes in below the current one, where the order of
 * changes puts it.
 */
function placeVersion(state: ObjectKeyState, version: KeyVersion, noncurrent: boolean): ObjectKeyState {
  const others = version.versionId === NULL_VERSION_ID ? state.versions.filter((v) => v.versionId !== NULL_VERSION_ID) : [...state.versions];
  if (!noncurrent || others.length === 0) return { ...state, versions: [version, ...others] };
  let at = 1;
  while (at < others.length && compareChanges(others[at], version) > 0) at++;
  return { ...state, versions: [...others.slice(0, at), version, ...others.slice(at)] };
}

function retag(state: ObjectKeyState, versionId: string, tags: readonly Tag[]): ObjectKeyState {
  return { ...state, versions: state.versions.map((v) => (v.versionId === versionId ? { ...v, tags } : v)) };
}

export function versionDeleted(ref: ObjectKeyRef & BucketLife, state: ObjectKeyState, version: KeyVersion): ObjectKeyEvent {
  const remaining = state.versions.filter((v) => v.versionId !== version.versionId);
  return {
    type: 'ObjectVersionDeleted',
    data: {
      ...ref,
      versionId: version.versionId,
      wasDeleteMarker: version.isDeleteMarker,
      wasCurrent: state.versions[0]?.versionId === version.versionId,
      newCurrentVersionId: remaining[0]?.versionId ?? null,
    },
  };
}

function validateKeyRef(ref: ObjectKeyRef): void {
  requireText(ref.bucket, 'the bucket');
  validateObjectKey(ref.key);
  if (!isSha256Hex(ref.keyId)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `key id "${ref.keyId}" is not SHA-256 hex`);
}

export function validateEtag(etag: string): void {
  if (!ETAG_PATTERN.test(etag)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${etag}" is not an unquoted S3 etag`);
}

/** Enabled buckets get the shell's fresh id; unversioned and suspended ones write the null version. */
function newVersionId(versioning: VersioningStatus, proposed: string): string {
  switch (versioning) {
    case 'Enabled':
      requireText(proposed, 'the version id');
      if (proposed === NULL_VERSION_ID) {
        throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${NULL_VERSION_ID}" is not a version id for a versioned write`);
      }
      return proposed;
    case 'Unversioned':
    case 'Suspended':
      return NULL_VERSION_ID;
    default:
      return assertNever(versioning, 'versioning status');
  }
}

/**
 * A shell that retries a write whose reply it lost sends the same version id again: the version is
 * already there, so nothing more happens. The same id with other content is a shell bug.
 */
function isRetriedWrite(state: ObjectKeyState, versionId: string, etag: string): boolean {
  if (versionId === NULL_VERSION_ID) return false;
  const existing = state.versions.find((v) => v.versionId === versionId);
  if (!existing) return false;
  if (existing.etag === etag) return true;
  throw new MetadataError(MetadataErrorCodes.InvalidArgument, `version id ${versionId} is already taken by other content`);
}

/**
 * S3 conditional writes, decided on the key's own state so that of N racing creates with
 * `If-None-Match: *` exactly one is appended (the others reload, see it, and fail here).
 */
function checkConditions(state: ObjectKeyState, conditions: WriteConditions & { readonly key: string }): void {
  const current = state.versions[0];
  const live = current && !current.isDeleteMarker ? current : undefined;
  if (conditions.ifNoneMatch !== undefined) {
    if (conditions.ifNoneMatch !== '*') throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'If-None-Match on a write must be "*"');
    if (live) throw new MetadataError(MetadataErrorCodes.PreconditionFailed, `${conditions.key} already exists`, { condition: 'If-None-Match' });
  }
  if (conditions.ifMatch !== undefined) {
    if (!live) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${conditions.key} does not exist`, { key: conditions.key });
    if (normalizeEtag(conditions.ifMatch) !== live.etag) {
      throw new MetadataError(MetadataErrorCodes.PreconditionFailed, `the etag of ${conditions.key} is not ${conditions.ifMatch}`, {
        condition: 'If-Match',
      });
    }
  }
}

/**
 * S3's conditional delete: If-Match is evaluated against the current version only ('*' matches any
 * ETag); no current version (none, or a delete marker) is NoSuchKey, another ETag PreconditionFailed.
 */
function checkDeleteCondition(state: ObjectKeyState, key: string, ifMatch: string): void {
  const current = state.versions[0];
  if (!current || current.isDeleteMarker) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${key} does not exist`, { key });
  if (ifMatch.trim() !== '*' && normalizeEtag(ifMatch) !== current.etag) {
    throw new MetadataError(MetadataErrorCodes.PreconditionFailed, `the etag of ${key} is not ${ifMatch}`, { condition: 'If-Match' });
  }
}

function taggableVersion(state: ObjectKeyState, key: string, versionId: string | undefined): KeyVersion {
  if (versionId === undefined) {
    const current = state.versions[0];
    if (!current || current.isDeleteMarker) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${key} does not exist`, { key });
    return current;
  }
  const version = state.versions.find((v) => v.versionId === versionId);
  if (!version) throw noSuchVersion(key, versionId);
  if (version.isDeleteMarker) {
    throw new MetadataError(MetadataErrorCodes.MethodNotAllowed, `version ${versionId} of ${key} is a delete marker`, { key, versionId });
  }
  return version;
}

function noSuchVersion(key: string, versionId: string): MetadataError {
  return new MetadataError(MetadataErrorCodes.NoSuchVersion, `${key} has no version ${versionId}`, { key, versionId });
}
