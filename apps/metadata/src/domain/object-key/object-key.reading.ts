import { NULL_VERSION_ID, MetadataErrorCodes, type ObjectVersionView } from '@cairn/protocol';
import { assertNever } from '@cairn/eventing';
import { MetadataError } from '../shared/metadata.errors';
import type { ObjectKeyEvent } from './object-key.events';

/** A version as a read sees it: everything but whether it is the latest, which the key decides. */
type ReadVersion = Omit<ObjectVersionView, 'isLatest'>;

/** The key's versions as GET and HEAD read them, newest first, and which one is current. */
export interface KeyAsRead {
  readonly versions: readonly ReadVersion[];
  readonly currentVersionId: string | null;
}

/**
 * The key's versions folded from its own events, as the projection would hold them once it has
 * caught up. GET and HEAD read this, so a read after an acknowledged write sees it through any
 * gateway, however far the projection lags. Only events of the bucket's current life count (and
 * events written before lives were recorded), as in the projection.
 */
export function keyAsRead(bucket: string, events: readonly ObjectKeyEvent[], bucketIncarnation: number): KeyAsRead {
  let versions: ReadVersion[] = [];
  let currentVersionId: string | null = null;
  for (const event of events) {
    const incarnation = event.data.incarnation;
    if (incarnation !== undefined && incarnation !== bucketIncarnation) continue;
    switch (event.type) {
      case 'ObjectVersionPut':
      case 'ObjectVersionCopied': {
        const d = event.data;
        const version: ReadVersion = {
          bucket,
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
          contentHeaders: d.contentHeaders ?? {},
          tags: d.tags,
          hlc: d.hlc,
          uploadId: event.type === 'ObjectVersionPut' ? (event.data.uploadId ?? null) : null,
          partSizes: d.partSizes ?? null,
          chunks: d.chunks,
        };
        versions = [version, ...withoutNullReplaced(versions, d.versionId)];
        currentVersionId = d.versionId;
        break;
      }
      case 'DeleteMarkerPut': {
        const d = event.data;
        const marker: ReadVersion = {
          bucket,
          key: d.key,
          versionId: d.versionId,
          isDeleteMarker: true,
          sizeBytes: 0,
          etag: null,
          lastModified: d.lastModified,
          storageClass: null,
          checksums: {},
          contentType: null,
          userMetadata: {},
          contentHeaders: {},
          tags: [],
          hlc: d.hlc,
          uploadId: null,
          partSizes: null,
          chunks: [],
        };
        versions = [marker, ...withoutNullReplaced(versions, d.versionId)];
        currentVersionId = d.versionId;
        break;
      }
      case 'ObjectVersionDeleted':
        versions = versions.filter((v) => v.versionId !== event.data.versionId);
        currentVersionId = event.data.newCurrentVersionId;
        break;
      case 'ObjectTagsSet':
      case 'ObjectTagsDeleted': {
        const tags = event.type === 'ObjectTagsSet' ? event.data.tags : [];
        versions = versions.map((v) => (v.versionId === event.data.versionId ? { ...v, tags } : v));
        break;
      }
      default:
        assertNever(event, 'object key event');
    }
  }
  return { versions, currentVersionId };
}

/** HEAD/GET of the current version, or of the one named, with S3's errors. */
export function versionToServe(key: KeyAsRead, bucket: string, keyName: string, versionId?: string): ObjectVersionView {
  const wanted = versionId ?? key.currentVersionId;
  const version = wanted === null ? undefined : key.versions.find((v) => v.versionId === wanted);
  if (!version) {
    if (versionId === undefined) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${keyName} does not exist`, { bucket, key: keyName });
    throw new MetadataError(MetadataErrorCodes.NoSuchVersion, `${keyName} has no version ${versionId}`, { bucket, key: keyName, versionId });
  }
  if (version.isDeleteMarker) {
    const details = { bucket, key: keyName, versionId: version.versionId, deleteMarker: true };
    if (versionId === undefined) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${keyName} is deleted`, details);
    throw new MetadataError(MetadataErrorCodes.MethodNotAllowed, `version ${versionId} of ${keyName} is a delete marker`, details);
  }
  return { ...version, isLatest: version.versionId === key.currentVersionId };
}

/** A new `null` version (or marker) replaces the key's existing null one. */
function withoutNullReplaced(versions: readonly ReadVersion[], newVersionId: string): ReadVersion[] {
  return newVersionId === NULL_VERSION_ID ? versions.filter((v) => v.versionId !== NULL_VERSION_ID) : [...versions];
}
