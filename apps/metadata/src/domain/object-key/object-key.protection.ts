import { lockRefusal, MetadataErrorCodes, retentionChangeRefusal, RetentionModes, type ObjectKeyEvent, type ObjectRetention } from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';
import type { RewrapDataKey, SetObjectLock, WriteLock } from './object-key.commands';
import type { ObjectKeyState } from './object-key.decider';
import type { BucketLife, ObjectKeyRef } from './object-key.events';

/* Object Lock and data-key rewrapping on one key: the rules every removal path of a version meets here. */

/** What a version holds of Object Lock and encryption (the key decider's state). */
export interface VersionProtection {
  readonly retention?: ObjectRetention | null;
  readonly legalHold?: boolean;
  /** The key id its data key is wrapped by (ObjectEncryption.keyId); absent when not encrypted. */
  readonly encryptionKeyId?: string;
}

interface ProtectedVersion extends VersionProtection {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
}

/**
 * Refuses removing (or replacing) a version that Object Lock protects at `now`: a legal hold, or a
 * retention not yet over (GOVERNANCE gives way to a bypass). Every path that removes a version —
 * DeleteObject with a version id, DeleteObjects, lifecycle expiry, an unversioned overwrite —
 * goes through the key's decider, so none gets around it.
 */
export function assertRemovable(version: ProtectedVersion, key: string, now: string, bypassGovernance: boolean): void {
  if (version.isDeleteMarker) return;
  const refusal = lockRefusal(version, now, bypassGovernance);
  if (refusal !== null) throw new MetadataError(MetadataErrorCodes.ObjectLocked, `${key} version ${version.versionId}: ${refusal}`, { key, versionId: version.versionId });
}

/** The Object Lock fields a put or copy records, validated. */
export function lockOfWrite(command: WriteLock): WriteLock {
  if (command.retention !== undefined) validateRetention(command.retention);
  return {
    ...(command.retention === undefined ? {} : { retention: command.retention }),
    ...(command.legalHold === true ? { legalHold: true } : {}),
  };
}

export function validateRetention(retention: ObjectRetention): void {
  if (!(RetentionModes as readonly string[]).includes(retention.mode)) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'Unknown wormMode directive.');
  }
  if (typeof retention.retainUntil !== 'string' || Number.isNaN(Date.parse(retention.retainUntil))) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'The retain until date must be an ISO-8601 date');
  }
}

export function decideSetObjectLock(command: SetObjectLock, state: ObjectKeyState, ref: ObjectKeyRef & BucketLife): ObjectKeyEvent[] {
  if (!command.objectLockEnabled) throw new MetadataError(MetadataErrorCodes.InvalidRequest, 'Bucket is missing Object Lock Configuration');
  const version = command.versionId === undefined ? state.versions[0] : state.versions.find((v) => v.versionId === command.versionId);
  if (!version) {
    if (command.versionId === undefined) throw new MetadataError(MetadataErrorCodes.NoSuchKey, `${command.key} does not exist`, { key: command.key });
    throw new MetadataError(MetadataErrorCodes.NoSuchVersion, `${command.key} has no version ${command.versionId}`, { key: command.key, versionId: command.versionId });
  }
  if (version.isDeleteMarker) {
    throw new MetadataError(MetadataErrorCodes.MethodNotAllowed, `version ${version.versionId} of ${command.key} is a delete marker`, { key: command.key, versionId: version.versionId });
  }
  let retention: ObjectRetention | null | undefined;
  if (command.retention !== undefined) {
    if (command.retention !== null) {
      validateRetention(command.retention);
      if (command.retention.retainUntil <= command.now) {
        throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'The retain until date must be in the future!');
      }
    }
    const refusal = retentionChangeRefusal(version.retention, command.retention, command.now, command.bypassGovernance === true);
    if (refusal !== null) throw new MetadataError(MetadataErrorCodes.ObjectLocked, refusal, { key: command.key, versionId: version.versionId });
    if (!sameRetention(version.retention ?? null, command.retention)) retention = command.retention;
  }
  const legalHold = command.legalHold !== undefined && command.legalHold !== (version.legalHold === true) ? command.legalHold : undefined;
  if (retention === undefined && legalHold === undefined) return [];
  return [
    {
      type: 'ObjectLockChanged',
      data: { ...ref, versionId: version.versionId, ...(retention === undefined ? {} : { retention }), ...(legalHold === undefined ? {} : { legalHold }) },
    },
  ];
}

export function decideRewrapDataKey(command: RewrapDataKey, state: ObjectKeyState, ref: ObjectKeyRef & BucketLife): ObjectKeyEvent[] {
  const version = state.versions.find((v) => v.versionId === command.versionId);
  // Gone, or rewrapped already (a retry, or another rotation got there first): nothing to do.
  if (!version || version.isDeleteMarker || version.encryptionKeyId !== command.fromKeyId) return [];
  if (command.encryption.keyId === command.fromKeyId) return [];
  return [{ type: 'ObjectDataKeyRewrapped', data: { ...ref, versionId: version.versionId, encryption: command.encryption } }];
}

/** What a put or copy event carries into the key's state. */
export function protectionOf(d: { readonly retention?: ObjectRetention; readonly legalHold?: boolean; readonly encryption?: { readonly keyId: string } }): VersionProtection {
  return {
    ...(d.retention === undefined ? {} : { retention: d.retention }),
    ...(d.legalHold === undefined ? {} : { legalHold: d.legalHold }),
    ...(d.encryption === undefined ? {} : { encryptionKeyId: d.encryption.keyId }),
  };
}

function sameRetention(a: ObjectRetention | null, b: ObjectRetention | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mode === b.mode && a.retainUntil === b.retainUntil;
}
