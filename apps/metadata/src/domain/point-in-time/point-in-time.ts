import { foldEvents, type StoredEvent } from '@cairn/eventing';
import { HISTORY_MOMENT_PATTERN, MetadataErrorCodes, type ObjectKeyEvent, type RestoreAction, type RestoredVersion } from '@cairn/protocol';
import { bucketDecider, type BucketState } from '../bucket/bucket.decider';
import type { BucketEvent } from '../bucket/bucket.events';
import { NO_INCARNATION } from '@cairn/key-reads';
import { LEGACY_INCARNATION } from '../object-key/object-key.decider';
import { keyReadFold, type KeyAsRead } from '@cairn/key-reads';
import { MetadataError } from '../shared/metadata.errors';

/**
 * The past as the event log tells it (docs/backups.md). An event belongs to the state as of a
 * moment when its envelope's `occurredAt` (the writer's wall clock when it was decided) is at or
 * before that moment. Pure: the moment comes in as milliseconds, the events as stored.
 */

/** The bucket as of a moment: its state then and its life (incarnation, NO_INCARNATION when it did not exist). */
export interface BucketAsOf {
  readonly state: BucketState;
  readonly incarnation: number;
}

export function occurredAtMs(stored: StoredEvent): number {
  return Date.parse(stored.envelope.occurredAt);
}

/** Parses an `at` argument: an ISO 8601 instant (with a zone). InvalidArgument otherwise. */
export function parseMoment(at: unknown): number {
  if (typeof at !== 'string' || !HISTORY_MOMENT_PATTERN.test(at)) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${String(at)}" is not an ISO 8601 instant with a zone (e.g. 2026-12-02T16:00:00Z)`);
  }
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, `"${at}" is not a valid instant`);
  return ms;
}

export function bucketAsOf(history: readonly StoredEvent[], atMs: number): BucketAsOf {
  const then = history.filter((e) => occurredAtMs(e) <= atMs);
  const events = then.map((e) => ({ type: e.envelope.type, data: e.envelope.data }) as BucketEvent);
  let incarnation = NO_INCARNATION;
  for (const stored of then) {
    if (stored.envelope.type === 'BucketCreated') incarnation = stored.sequence;
    else if (stored.envelope.type === 'BucketDeleted') incarnation = NO_INCARNATION;
  }
  return { state: foldEvents(bucketDecider, events), incarnation };
}

/**
 * A key folded twice from one pass over its events: as of the moment, and now. Events arrive in
 * stream order; each is counted "then" by its own occurredAt.
 */
export interface KeyTimeline {
  readonly key: string;
  readonly then: KeyAsRead;
  readonly now: KeyAsRead;
}

export function emptyTimeline(key: string): KeyTimeline {
  return { key, then: keyReadFold.initial(), now: keyReadFold.initial() };
}

export function advanceTimeline(timeline: KeyTimeline, stored: StoredEvent, atMs: number): KeyTimeline {
  const event = { type: stored.envelope.type, data: stored.envelope.data } as ObjectKeyEvent;
  const now = keyReadFold.evolve(timeline.now, event);
  const then = occurredAtMs(stored) <= atMs ? keyReadFold.evolve(timeline.then, event) : timeline.then;
  return { key: timeline.key, then, now };
}

export function keyAsOf(history: readonly StoredEvent[], atMs: number): KeyAsRead {
  return history.reduce((t, e) => advanceTimeline(t, e, atMs), emptyTimeline('')).then;
}

type ReadVersion = KeyAsRead['versions'][number];

/** The key's live version in the bucket life given (null: absent, deleted, or of another life). */
export function liveVersion(key: KeyAsRead, bucketIncarnation: number): ReadVersion | null {
  const inLife = key.incarnation === LEGACY_INCARNATION || key.incarnation === bucketIncarnation;
  if (!inLife || key.currentVersionId === null) return null;
  const current = key.versions.find((v) => v.versionId === key.currentVersionId);
  return current && !current.isDeleteMarker ? current : null;
}

/** Same bytes and the same metadata a GET would answer: no new version is needed. */
export function sameContent(a: ReadVersion, b: ReadVersion): boolean {
  return (
    a.etag === b.etag &&
    a.sizeBytes === b.sizeBytes &&
    a.contentType === b.contentType &&
    a.chunks.length === b.chunks.length &&
    a.chunks.every((c, i) => c.hash === b.chunks[i].hash) &&
    stableJson(a.userMetadata) === stableJson(b.userMetadata) &&
    stableJson(a.contentHeaders) === stableJson(b.contentHeaders)
  );
}

/**
 * What bringing a key of the target back to `desired` (the source's live version at the moment,
 * or null) takes, given the target's live version now. History is never rewritten: a restore only
 * ever adds a version or a delete.
 */
export function restoreActionFor(key: string, desired: ReadVersion | null, actual: ReadVersion | null): RestoreAction | null {
  if (desired === null) return actual === null ? null : { kind: 'delete', key, currentEtag: actual.etag };
  if (actual !== null && sameContent(desired, actual)) return null;
  return { kind: 'put', key, version: restoredVersionOf(desired) };
}

/**
 * One page of a restore from a backup's events: the source keys of the page (folded as of the
 * moment from the backup) against the target's keys now (from the live log). A source key gets a
 * put or nothing, as restoreActionFor decides; a target key in the page's range (after, through]
 * under the prefix that the page does not name did not exist then, and is deleted if live now.
 * Actions come in key order.
 */
export interface RestoreRangePage {
  readonly sourceKeys: readonly { readonly key: string; readonly then: KeyAsRead }[];
  readonly sourceIncarnation: number;
  readonly targetKeys: readonly TargetKeyNow[];
  readonly targetIncarnation: number;
  readonly prefix: string;
  /** Exclusive; '' from the start of the key space. */
  readonly after: string;
  /** Inclusive; null to the end of the key space. */
  readonly through: string | null;
}

/** A key of the restore target as it is now. */
export interface TargetKeyNow {
  readonly key: string;
  readonly now: KeyAsRead;
}

export function restoreActionsForRange(page: RestoreRangePage): RestoreAction[] {
  // The scheduler cuts the ranges in S3's key order (UTF-8 bytes), as the read model compares keys.
  const inRange = (key: string) => key.startsWith(page.prefix) && (page.after === '' || compareUtf8(key, page.after) > 0) && (page.through === null || compareUtf8(key, page.through) <= 0);
  const target = new Map(page.targetKeys.filter((t) => inRange(t.key)).map((t) => [t.key, t]));
  const actions: RestoreAction[] = [];
  const named = new Set<string>();
  for (const source of page.sourceKeys) {
    if (!inRange(source.key)) continue;
    named.add(source.key);
    const now = target.get(source.key);
    const action = restoreActionFor(source.key, liveVersion(source.then, page.sourceIncarnation), now ? liveVersion(now.now, page.targetIncarnation) : null);
    if (action) actions.push(action);
  }
  for (const [key, t] of target) {
    if (named.has(key)) continue;
    const live = liveVersion(t.now, page.targetIncarnation);
    if (live) actions.push({ kind: 'delete', key, currentEtag: live.etag });
  }
  return actions.sort((a, b) => compareUtf8(a.key, b.key));
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The key's state with inline bodies left out of its versions' chunks (their hashes stay): what a
 * restore compares the target with, without holding the target's small objects' bytes.
 */
export function withoutInlineBodies(key: KeyAsRead): KeyAsRead {
  return {
    ...key,
    versions: key.versions.map((v) => (v.chunks.some((c) => c.inline !== undefined) ? { ...v, chunks: v.chunks.map(({ inline: _inline, ...chunk }) => chunk) } : v)),
  };
}

export function restoredVersionOf(v: ReadVersion): RestoredVersion {
  return {
    versionIdThen: v.versionId,
    sizeBytes: v.sizeBytes,
    etag: v.etag ?? '',
    checksums: v.checksums,
    contentType: v.contentType,
    userMetadata: v.userMetadata,
    contentHeaders: v.contentHeaders as Readonly<Record<string, string>>,
    storageClass: v.storageClass,
    tags: v.tags,
    chunks: v.chunks,
  };
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}
