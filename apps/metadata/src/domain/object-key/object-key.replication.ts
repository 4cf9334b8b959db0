import { lockRefusal, MetadataErrorCodes, NULL_VERSION_ID, type ConflictSide, type ObjectKeyEvent } from '@cairn/protocol';
import { assertNever } from '@cairn/eventing';
import type { VersionVector } from '@cairn/hashing';
import { MetadataError } from '../shared/metadata.errors';
import { areConcurrent, compareChanges, conflictIdOf, isNullVersionAt, loserVersionIdOf } from './key-change-order';
import type { ApplyReplicatedChange } from './object-key.commands';
import { versionDeleted, type KeyVersion, type ObjectKeyState } from './object-key.decider';
import type { BucketLife, ObjectKeyRef } from './object-key.events';

type VersionEvent = Extract<ObjectKeyEvent, { type: 'ObjectVersionPut' | 'ObjectVersionCopied' | 'DeleteMarkerPut' }>;

/**
 * Another region's change of the key, decided here (docs/replication.md):
 *
 * - **Once, in order.** The change's version vector counts it as its region's n-th change of the
 *   key. Seen already (n at or below what the key has of that region): nothing to do. A gap (an
 *   earlier change of that region not applied yet), or a change of another region that it had
 *   seen and this region has not: OutOfOrder, and sync retries after it.
 * - **Conflicts.** A new version whose vector is concurrent with the current version's (neither
 *   region had seen the other's write) is a conflict: the higher HLC, then region, wins in every
 *   region. The loser stays as a noncurrent version — renamed when both were the `null` version —
 *   and ConflictResolved records it.
 * - **Nothing lost.** A delete of a version this region no longer has (replaced by a concurrent
 *   write here) removes nothing; ReplicatedChangeSkipped keeps the vector counting it.
 *
 * Changes from before regions federated carry no vector: they apply once by their identity and go
 * where the order of changes puts them, without conflict detection.
 */
export function decideReplicatedChange(command: ApplyReplicatedChange, state: ObjectKeyState, ref: ObjectKeyRef & BucketLife): ObjectKeyEvent[] {
  const { event, sourceRegion } = command;
  // Each region records and resolves its own conflicts, and skips are bookkeeping: never replayed.
  if (event.type === 'ConflictResolved' || event.type === 'ReplicatedChangeSkipped' || event.type === 'ObjectDataKeyRewrapped' || event.type === 'ObjectVersionStorageClassChanged') return [];
  const vector = event.data.vector;
  if (vector !== undefined) {
    const nth = vector[sourceRegion] ?? 0;
    const applied = state.vector[sourceRegion] ?? 0;
    if (nth <= applied) return [];
    if (nth > applied + 1) {
      throw new MetadataError(
        MetadataErrorCodes.OutOfOrder,
        `change ${nth} of ${ref.key} from ${sourceRegion} arrived before change ${applied + 1}`,
        { bucket: ref.bucket, key: ref.key, sourceRegion, expected: applied + 1, got: nth },
      );
    }
    // Causal order: the changes of other regions this one had seen must be here first (each comes
    // from its own region's stream, so a third region may see them in any order).
    for (const [region, count] of Object.entries(vector)) {
      if (region !== sourceRegion && (state.vector[region] ?? 0) < count) {
        throw new MetadataError(
          MetadataErrorCodes.OutOfOrder,
          `change ${nth} of ${ref.key} from ${sourceRegion} follows change ${count} from ${region}, not applied here yet`,
          { bucket: ref.bucket, key: ref.key, sourceRegion, dependsOn: region, expected: count, have: state.vector[region] ?? 0 },
        );
      }
    }
  }
  const provenance = { region: event.data.region ?? sourceRegion, ...(vector === undefined ? {} : { vector }) };
  switch (event.type) {
    case 'ObjectVersionPut':
    case 'ObjectVersionCopied':
    case 'DeleteMarkerPut':
      return arrivingVersion(command, state, ref, event, provenance.region, vector);
    case 'ObjectVersionDeleted': {
      const { versionId, versionHlc } = event.data;
      const target = state.versions.find((v) => (versionHlc === undefined ? v.versionId === versionId : v.versionId === versionId ? v.hlc === versionHlc : isNullVersionAt(v, versionHlc)));
      // A version Object Lock protects here stays (its region's decider refused it too, unless the lock came later).
      if (target && !target.isDeleteMarker && lockRefusal(target, command.resolvedAt, false) !== null) {
        return vector === undefined ? [] : [skipped(ref, event.type, versionId, 'the version is protected by Object Lock', provenance)];
      }
      if (target) {
        const deleted = versionDeleted(ref, state, target);
        return [{ ...deleted, data: { ...deleted.data, versionHlc: target.hlc, ...provenance } } as ObjectKeyEvent];
      }
      if (vector === undefined) return [];
      const current = state.versions[0];
      const events: ObjectKeyEvent[] = [];
      // An unversioned delete that met a concurrent write here: the write stays (the delete loses).
      if (current && versionId === NULL_VERSION_ID && areConcurrent(vector, current.vector)) {
        const loser: ConflictSide = { versionId, region: provenance.region, hlc: versionHlc ?? command.changeHlc, kind: 'delete' };
        events.push(conflictResolved(ref, command, sideOf(current), loser, null));
      }
      events.push(skipped(ref, event.type, versionId, 'the version is not here (replaced or removed)', provenance));
      return events;
    }
    case 'ObjectTagsSet':
    case 'ObjectTagsDeleted':
    case 'ObjectAclSet':
    case 'ObjectLockChanged': {
      const target = state.versions.find((v) => v.versionId === event.data.versionId && !v.isDeleteMarker);
      if (target) return [{ ...event, data: { ...event.data, ...ref, ...provenance } } as ObjectKeyEvent];
      return vector === undefined ? [] : [skipped(ref, event.type, event.data.versionId, 'the version is not here', provenance)];
    }
    default:
      return assertNever(event, 'replicated object key event');
  }
}

function arrivingVersion(
  command: ApplyReplicatedChange,
  state: ObjectKeyState,
  ref: ObjectKeyRef & BucketLife,
  event: VersionEvent,
  region: string,
  vector: VersionVector | undefined,
): ObjectKeyEvent[] {
  const { versionId, hlc } = event.data;
  // A change from before vectors: once by its identity.
  if (vector === undefined && state.versions.some((v) => v.hlc === hlc && (v.versionId === versionId || isNullVersionAt(v, hlc)))) return [];
  const arriving: ConflictSide = { versionId, region, hlc, kind: event.type === 'DeleteMarkerPut' ? 'delete-marker' : 'version' };
  const current = state.versions[0];
  const placed = (data: Record<string, unknown>): ObjectKeyEvent => ({ type: event.type, data: { ...event.data, ...ref, region, ...(vector === undefined ? {} : { vector }), ...data } }) as ObjectKeyEvent;
  const wins = !current || compareChanges({ hlc, region }, current) > 0;
  if (!current || !areConcurrent(vector, current.vector)) {
    // Causally after what is here (or from before vectors): it goes where the order puts it.
    if (wins || vector !== undefined) return [placed({})];
    return [placed({ noncurrent: true, ...(versionId === NULL_VERSION_ID && hasNullVersion(state) ? { versionId: loserVersionIdOf(arriving) } : {}) })];
  }
  const here = sideOf(current);
  if (wins) {
    const rename = versionId === NULL_VERSION_ID && current.versionId === NULL_VERSION_ID;
    const keptAs = rename ? loserVersionIdOf(current) : current.versionId;
    return [
      conflictResolved(ref, command, arriving, here, keptAs, rename ? { from: NULL_VERSION_ID, to: keptAs, hlc: current.hlc } : undefined),
      placed({}),
    ];
  }
  const keptAs = versionId === NULL_VERSION_ID && hasNullVersion(state) ? loserVersionIdOf(arriving) : versionId;
  return [placed({ noncurrent: true, versionId: keptAs }), conflictResolved(ref, command, here, arriving, keptAs)];
}

function hasNullVersion(state: ObjectKeyState): boolean {
  return state.versions.some((v) => v.versionId === NULL_VERSION_ID);
}

function sideOf(version: KeyVersion): ConflictSide {
  return { versionId: version.versionId, region: version.region, hlc: version.hlc, kind: version.isDeleteMarker ? 'delete-marker' : 'version' };
}

function conflictResolved(
  ref: ObjectKeyRef & BucketLife,
  command: ApplyReplicatedChange,
  winner: ConflictSide,
  loser: ConflictSide,
  loserVersionId: string | null,
  renamed?: { readonly from: string; readonly to: string; readonly hlc: string },
): ObjectKeyEvent {
  return {
    type: 'ConflictResolved',
    data: { ...ref, conflictId: conflictIdOf(winner, loser), winner, loser, loserVersionId, ...(renamed ? { renamed } : {}), resolvedAt: command.resolvedAt },
  };
}

function skipped(ref: ObjectKeyRef & BucketLife, changeType: string, versionId: string, reason: string, provenance: { region: string; vector?: VersionVector }): ObjectKeyEvent {
  return { type: 'ReplicatedChangeSkipped', data: { ...ref, changeType, versionId, reason, ...provenance } };
}
