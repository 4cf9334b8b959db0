import { NULL_VERSION_ID, MetadataErrorCodes, type ObjectKeyEvent, type ObjectVersionView } from '@cairn/protocol';
import { assertNever } from '@cairn/eventing';
import { MetadataError } from './metadata-error';

/**
 * Incarnation of a key whose history was written before incarnations were recorded (events
 * without one): such history is taken to belong to the life the next write comes in.
 */
export const LEGACY_INCARNATION = 0;

/** A version as a read sees it: everything but whether it is the latest, which the key decides. */
type ReadVersion = Omit<ObjectVersionView, 'isLatest'>;

/** The key's versions as GET and HEAD read them, newest first, and which one is current. */
export interface KeyAsRead {
  /** The bucket life these versions belong to (LEGACY_INCARNATION: events written before lives were recorded). */
  readonly incarnation: number;
  readonly versions: readonly ReadVersion[];
  readonly currentVersionId: string | null;
}

/** What a delete marker is besides its id and time: no body, no metadata. */
const DELETE_MARKER_FIELDS = {
  isDeleteMarker: true,
  sizeBytes: 0,
  etag: null,
  storageClass: null,
  checksums: {},
  contentType: null,
  userMetadata: {},
  contentHeaders: {},
  tags: [],
  uploadId: null,
  partSizes: null,
  chunks: [],
} as const;

/** Bytes a kept version costs beyond its inline body: its metadata and chunk list. */
const VERSION_OVERHEAD_BYTES = 1024;

/**
 * The key's versions folded from its own events, as the projection would hold them once it has
 * caught up. GET and HEAD read this, so a read after an acknowledged write sees it through any
 * gateway, however far the projection lags. Lives are followed as the key's decider follows them:
 * a newer life starts empty, events of an older one are ignored, and versionToServe answers only
 * from the bucket's current life.
 */
export const keyReadFold = {
  initial: (): KeyAsRead => ({ incarnation: LEGACY_INCARNATION, versions: [], currentVersionId: null }),

  evolve(folded: KeyAsRead, event: ObjectKeyEvent): KeyAsRead {
    const state = inLifeOf(folded, event.data.incarnation);
    if (state === undefined) return folded;
    switch (event.type) {
      case 'ObjectVersionPut':
      case 'ObjectVersionCopied': {
        const d = event.data;
        const version: ReadVersion = {
          bucket: d.bucket,
          key: d.key,
          versionId: d.versionId,
          isDeleteMarker: false,
          sizeBytes: d.sizeBytes,
          etag: d.etag,
          lastModified: d.lastModified,
          storageClass: d.storageClass,
          checksums: d.checksums as Record<string, string>,
          contentType: d.contentType,
          userMetadata: d.userMetadata,
          contentHeaders: d.contentHeaders,
          tags: d.tags,
          hlc: d.hlc,
          uploadId: event.type === 'ObjectVersionPut' ? (event.data.uploadId ?? null) : null,
          partSizes: d.partSizes ?? null,
          chunks: d.chunks,
          ...(d.encryption === undefined ? {} : { encryption: d.encryption }),
          ...(d.retention === undefined ? {} : { retention: d.retention }),
          ...(d.legalHold === undefined ? {} : { legalHold: d.legalHold }),
          ...(d.acl === undefined ? {} : { acl: d.acl }),
        };
        return placed(state, version, d.noncurrent === true);
      }
      case 'DeleteMarkerPut': {
        const d = event.data;
        const marker: ReadVersion = { bucket: d.bucket, key: d.key, versionId: d.versionId, lastModified: d.lastModified, hlc: d.hlc, ...DELETE_MARKER_FIELDS };
        return placed(state, marker, d.noncurrent === true);
      }
      case 'ObjectVersionDeleted':
        return { ...state, versions: state.versions.filter((v) => v.versionId !== event.data.versionId), currentVersionId: event.data.newCurrentVersionId };
      case 'ObjectTagsSet':
      case 'ObjectTagsDeleted': {
        const tags = event.type === 'ObjectTagsSet' ? event.data.tags : [];
        return { ...state, versions: state.versions.map((v) => (v.versionId === event.data.versionId ? { ...v, tags } : v)) };
      }
      case 'ObjectAclSet':
        return { ...state, versions: state.versions.map((v) => (v.versionId === event.data.versionId && !v.isDeleteMarker ? { ...v, acl: event.data.acl } : v)) };
      case 'ConflictResolved': {
        const { renamed } = event.data;
        if (!renamed) return state;
        const renames = (v: ReadVersion) => v.versionId === renamed.from && v.hlc === renamed.hlc;
        return {
          ...state,
          versions: state.versions.map((v) => (renames(v) ? { ...v, versionId: renamed.to } : v)),
          currentVersionId: state.versions.some((v) => renames(v) && v.versionId === state.currentVersionId) ? renamed.to : state.currentVersionId,
        };
      }
      case 'ReplicatedChangeSkipped':
        return state;
      case 'ObjectLockChanged': {
        const { versionId, retention, legalHold } = event.data;
        const changed = (v: ReadVersion): ReadVersion => {
          const { retention: _r, legalHold: _h, ...rest } = v;
          const nextRetention = retention === undefined ? v.retention : (retention ?? undefined);
          const nextHold = legalHold === undefined ? v.legalHold : legalHold;
          return { ...rest, ...(nextRetention ? { retention: nextRetention } : {}), ...(nextHold === undefined ? {} : { legalHold: nextHold }) };
        };
        return { ...state, versions: state.versions.map((v) => (v.versionId === versionId && !v.isDeleteMarker ? changed(v) : v)) };
      }
      case 'ObjectDataKeyRewrapped':
        return { ...state, versions: state.versions.map((v) => (v.versionId === event.data.versionId && !v.isDeleteMarker ? { ...v, encryption: event.data.encryption } : v)) };
      case 'ObjectVersionStorageClassChanged': {
        const d = event.data;
        return { ...state, versions: state.versions.map((v) => (v.versionId === d.versionId && !v.isDeleteMarker ? { ...v, storageClass: d.storageClass, chunks: d.chunks } : v)) };
      }
      default:
        return assertNever(event, 'object key event');
    }
  },

  /** Roughly the memory a kept state holds: inline bodies (base64) and a little per version. */
  sizeOf(state: KeyAsRead): number {
    let bytes = 0;
    for (const version of state.versions) {
      bytes += VERSION_OVERHEAD_BYTES;
      for (const chunk of version.chunks) bytes += chunk.inline?.length ?? 0;
    }
    return bytes;
  },
};

/** A fold of a whole history (tests, one-off reads). */
export function keyAsRead(events: readonly ObjectKeyEvent[]): KeyAsRead {
  return events.reduce(keyReadFold.evolve, keyReadFold.initial());
}

function inLifeOf(state: KeyAsRead, eventIncarnation: number | undefined): KeyAsRead | undefined {
  if (eventIncarnation === undefined || eventIncarnation === state.incarnation) return state;
  if (state.incarnation === LEGACY_INCARNATION) return { ...state, incarnation: eventIncarnation };
  if (eventIncarnation > state.incarnation) return { incarnation: eventIncarnation, versions: [], currentVersionId: null };
  return undefined;
}

/** HEAD/GET of the current version, or of the one named, with S3's errors. */
export function versionToServe(key: KeyAsRead, bucketIncarnation: number, bucket: string, keyName: string, versionId?: string): ObjectVersionView {
  // Versions of an earlier life of the bucket name are gone with it.
  const inLife = key.incarnation === LEGACY_INCARNATION || key.incarnation === bucketIncarnation;
  const wanted = versionId ?? key.currentVersionId;
  const version = wanted === null || !inLife ? undefined : key.versions.find((v) => v.versionId === wanted);
  if (!version) {
    if (versionId === undefined) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${keyName} does not exist`, { bucket, key: keyName });
    throw new MetadataError(MetadataErrorCodes.NoSuchVersion, `${keyName} has no version ${versionId}`, { bucket, key: keyName, versionId });
  }
  if (version.isDeleteMarker) {
    const details = { bucket, key: keyName, versionId: version.versionId, deleteMarker: true };
    if (versionId === undefined) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${keyName} is deleted`, details);
    throw new MetadataError(MetadataErrorCodes.MethodNotAllowed, `version ${versionId} of ${keyName} is a delete marker`, details);
  }
  return { ...version, bucket, isLatest: version.versionId === key.currentVersionId };
}

/**
 * A new version goes on top and is current; one that lost a conflict on arrival goes in below,
 * by HLC, and the current one stays (the key's decider places it the same way).
 */
function placed(state: KeyAsRead, version: ReadVersion, noncurrent: boolean): KeyAsRead {
  const others = withoutNullReplaced(state.versions, version.versionId);
  if (!noncurrent || others.length === 0) return { ...state, versions: [version, ...others], currentVersionId: version.versionId };
  let at = 1;
  while (at < others.length && others[at].hlc > version.hlc) at++;
  return { ...state, versions: [...others.slice(0, at), version, ...others.slice(at)] };
}

/** A new `null` version (or marker) replaces the key's existing null one. */
function withoutNullReplaced(versions: readonly ReadVersion[], newVersionId: string): ReadVersion[] {
  return newVersionId === NULL_VERSION_ID ? versions.filter((v) => v.versionId !== NULL_VERSION_ID) : [...versions];
}
