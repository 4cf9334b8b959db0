import type { ChunkRef } from './common';
import type { ObjectVersionView } from './metadata.views';

/**
 * Reading the past and restoring it (docs/backups.md). Every namespace change is an event whose
 * envelope carries the writer's wall-clock `occurredAt`; the state "as of" a moment is the fold of
 * the events that occurred at or before it. These are metadata RPCs (MetadataRpc.history*), also
 * served on metadata's admin HTTP API with `?at=<iso>`.
 */

/** A moment as every `at` takes it: an ISO 8601 instant with its zone (2026-12-02T16:00:00Z). */
export const HISTORY_MOMENT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Keys a listing as of a moment answers at most per page. */
export const HISTORY_LIST_LIMIT_MAX = 1_000;
/** Restore actions one plan page carries at most (each names its version's chunk list). */
export const RESTORE_PLAN_LIMIT_MAX = 200;
/** A plan page stops growing past this many bytes of JSON (NATS' default max payload is 1 MiB). */
export const RESTORE_PLAN_PAGE_BYTES_MAX = 512 * 1024;

export interface HistoryListRequest {
  readonly bucket: string;
  /** ISO 8601 instant. */
  readonly at: string;
  readonly prefix?: string;
  /** Exclusive: keys after this one. */
  readonly after?: string;
  /** 1..HISTORY_LIST_LIMIT_MAX, default HISTORY_LIST_LIMIT_MAX. */
  readonly limit?: number;
}

export interface HistoryObjectSummary {
  readonly key: string;
  readonly versionId: string;
  readonly sizeBytes: number;
  readonly etag: string;
  readonly lastModified: string;
  readonly storageClass: string | null;
}

export interface HistoryListReply {
  readonly bucket: string;
  readonly at: string;
  /** Live objects (current version not a delete marker) as of `at`, in key order. */
  readonly objects: readonly HistoryObjectSummary[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly nextAfter: string | null;
  /** META's last sequence when the history was read: every event up to it was considered. */
  readonly asOfSequence: number;
}

export interface HistoryHeadRequest {
  readonly bucket: string;
  readonly key: string;
  readonly at: string;
  /** A version that existed at `at`; default the one current then. */
  readonly versionId?: string;
}
/** The version as of `at` (chunks and inline bytes included). NoSuchBucket / NoSuchKey / NoSuchVersion as S3 would have answered then. */
export type HistoryHeadReply = ObjectVersionView;

export interface RestorePlanRequest {
  readonly bucket: string;
  readonly at: string;
  readonly prefix?: string;
  /** Restore into this bucket instead (it must exist); default the bucket itself. */
  readonly to?: string;
  /** Exclusive key to continue after (the previous page's nextAfter). */
  readonly after?: string;
  /** 1..RESTORE_PLAN_LIMIT_MAX. */
  readonly limit?: number;
  /** The snapshot a previous page came from: pages of one plan are cut from the same read. */
  readonly snapshot?: number;
}

/** What it takes to bring one key of the target back to the source's state at the moment. */
export type RestoreAction =
  /** Write a new version with the old version's content (its chunks reused by hash). */
  | { readonly kind: 'put'; readonly key: string; readonly version: RestoredVersion }
  /** The key did not exist (or was deleted) then but is live now: delete it (a delete marker in a versioned bucket). */
  | { readonly kind: 'delete'; readonly key: string; readonly currentEtag: string | null };

/** The content a restored version is written with (ObjectVersionView less identity and time). */
export interface RestoredVersion {
  readonly versionIdThen: string;
  readonly sizeBytes: number;
  readonly etag: string;
  readonly checksums: Readonly<Record<string, string>>;
  readonly contentType: string | null;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly contentHeaders: Readonly<Record<string, string>>;
  readonly storageClass: string | null;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
  readonly chunks: readonly ChunkRef[];
}

export interface RestorePlanReply {
  readonly actions: readonly RestoreAction[];
  /** Keys looked at in this page (same state or not). */
  readonly scannedKeys: number;
  /** Keys (under the prefix) the whole plan looks at, for progress. */
  readonly totalKeys: number;
  readonly nextAfter: string | null;
  readonly snapshot: number;
}

/** One event of a bucket's history as a backup holds it: its META sequence and the envelope as stored. */
export interface HistoryEvent {
  readonly seq: number;
  readonly event: { readonly id: string; readonly type: string; readonly occurredAt: string; readonly data: Record<string, unknown> } & Record<string, unknown>;
}

/**
 * A page of a restore whose source is a backup (the live log no longer reaches the moment): the
 * scheduler reads the source bucket's events from the backup's segments and sends them, a range of
 * keys at a time; metadata folds them as of the moment with the fold that serves GET, compares each
 * key with the target's state now (from the live log) and answers the actions, as restorePlan does.
 */
export interface RestorePlanFromEventsRequest {
  readonly bucket: string;
  readonly at: string;
  readonly prefix?: string;
  readonly to?: string;
  /** The source bucket's own events (`meta.bucket.<b>`) that occurred at or before the moment. */
  readonly bucketEvents: readonly HistoryEvent[];
  /** Keys under the prefix in (after, through], in key order, each with its events that occurred at or before the moment. */
  readonly keys: readonly { readonly key: string; readonly events: readonly HistoryEvent[] }[];
  /** Exclusive lower bound of the key range this page covers; '' for the first page. */
  readonly after: string;
  /** Inclusive upper bound; null on the last page (to the end of the key space). */
  readonly through: string | null;
}

export interface RestorePlanFromEventsReply {
  readonly actions: readonly RestoreAction[];
  readonly scannedKeys: number;
}

/** Reading the past from a backup's events: the live objects among the keys given, as of the moment (history.list-from-events). */
export interface HistoryListFromEventsRequest {
  readonly bucket: string;
  readonly at: string;
  readonly bucketEvents: readonly HistoryEvent[];
  /** Keys in key order, each with its events that occurred at or before the moment. */
  readonly keys: readonly { readonly key: string; readonly events: readonly HistoryEvent[] }[];
}

export interface HistoryListFromEventsReply {
  /** The keys given that were live then, in the order given. */
  readonly objects: readonly HistoryObjectSummary[];
}

/** One key's version as of the moment from a backup's events (history.head-from-events): answers as historyHead does. */
export interface HistoryHeadFromEventsRequest {
  readonly bucket: string;
  readonly key: string;
  readonly at: string;
  readonly versionId?: string;
  readonly bucketEvents: readonly HistoryEvent[];
  readonly events: readonly HistoryEvent[];
}

/** The hashes storage nodes hold for a chunk: its own, or its erasure-coded shards'. Inline chunks hold none. */
export function storedHashesOf(chunk: ChunkRef): readonly string[] {
  if (chunk.inline !== undefined) return [];
  // Erasure-coded chunks (ChunkRef.erasure, being added with storage classes) are held as their shards.
  const erasure = (chunk as { readonly erasure?: { readonly shards: readonly string[] } }).erasure;
  return erasure ? erasure.shards : [chunk.hash];
}

/** Events one import request carries at most (and at most this many bytes of JSON). */
export const IMPORT_EVENTS_MAX = 500;
export const IMPORT_BYTES_MAX = 512 * 1024;

/** One event of a backup, as the region restore replays it into an empty region's META. */
export interface ImportedEvent {
  /** The subject without the namespace, e.g. `meta.object.photos.<keyId>`. */
  readonly subject: string;
  /** The envelope exactly as it was stored. */
  readonly event: { readonly id: string; readonly type: string; readonly schemaVersion: number } & Record<string, unknown>;
  /** The id of the first event of the same subject in the backup: a subject that starts otherwise here is this region's own, and is left alone. */
  readonly firstEventIdOfSubject: string;
}

export interface ImportEventsRequest {
  readonly events: readonly ImportedEvent[];
}

export interface ImportEventsReply {
  readonly imported: number;
  /** Already appended by an earlier attempt (JetStream's duplicate window, keyed by event id). */
  readonly duplicates: number;
  /** Events of subjects this region had started on its own (e.g. its root access key): not imported. */
  readonly skipped: number;
  /** META's last sequence after the import. */
  readonly sequence: number;
}
