import type { ErrorReply } from '../errors';

/**
 * A storage node's HTTP data plane (docs/architecture.md §3), shared by the node that serves it and
 * the clients that call it (the replicated chunk path and the maintenance jobs). Chunks are named
 * by the lowercase hex SHA-256 of their bytes; bodies are raw bytes of CHUNK_MEDIA_TYPE.
 *
 *   PUT    /chunks/<hash>                    201 new | 200 held already → PutChunkReply
 *   GET    /chunks/<hash>                    200 | 206 (Range) | 404 | 416 → bytes
 *   HEAD   /chunks/<hash>                    200 | 404
 *   DELETE /chunks/<hash>                    204 | 404 | 409; needs StorageHeaders.FencingToken and
 *                                            StorageHeaders.FencingResource, optional
 *                                            StorageHeaders.UnlessTouchedSince
 *   GET    /chunks?prefix&after&limit&detail 200 → ChunkListingReply
 *   POST   /chunks/verify?after&limit&maxBytes 200 → VerifyChunksReply
 *
 * Errors answer with a StorageErrorReply and the status of StorageStatusByErrorCode.
 */
export const CHUNK_MEDIA_TYPE = 'application/octet-stream';

/** Path segments, for the server's routes. */
export const STORAGE_CHUNKS_SEGMENT = 'chunks';
export const STORAGE_VERIFY_SEGMENT = 'verify';

export const StorageHeaders = {
  /**
   * DELETE: the fencing token of the lease the delete is done under (decimal); one older than the
   * newest the node has seen for the same FencingResource is refused.
   */
  FencingToken: 'x-cairn-fencing-token',
  /**
   * DELETE: the lock resource whose lease issued FencingToken (e.g. CHUNK_MAINTENANCE_FENCING_RESOURCE).
   * The node keeps the highest token per resource, so tokens of one lease never fence another.
   * FENCING_RESOURCE_PATTERN; absent: 400 FENCING_RESOURCE_MISSING, malformed: 400 INVALID_STORAGE_REQUEST.
   */
  FencingResource: 'x-cairn-fencing-resource',
  /** PUT reply: `true` when the node held the chunk already and wrote nothing. */
  ChunkExisted: 'x-cairn-chunk-existed',
  /**
   * DELETE: epoch ms (decimal). The node deletes only a chunk last touched (written, or PUT
   * again) strictly before it; otherwise 409 CHUNK_RECENTLY_WRITTEN and the chunk stays.
   */
  UnlessTouchedSince: 'x-cairn-unless-touched-since',
  /**
   * GET of a whole chunk: `true` when the reader hashes what it receives against the chunk's name
   * itself (the replicated chunk client does), so the node sends the bytes without hashing them
   * first: one hash per read instead of two. A reader that finds them wrong reads once more without
   * it, and the node's own check then moves the chunk aside. Ignored for a range.
   */
  ReaderVerifies: 'x-cairn-reader-verifies',
} as const;

/** The longest FencingResource a node accepts (the lock-manager's own limit on a resource name). */
export const FENCING_RESOURCE_MAX_LENGTH = 256;
/** What a FencingResource may be made of: letters, digits and `. _ / : -`, 1..FENCING_RESOURCE_MAX_LENGTH. */
export const FENCING_RESOURCE_PATTERN = /^[A-Za-z0-9._/:-]+$/;

export function isFencingResourceName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= FENCING_RESOURCE_MAX_LENGTH && FENCING_RESOURCE_PATTERN.test(value);
}

/**
 * The lease every chunk deletion of the scheduler's sweep (GC and trims) is fenced by. Nodes
 * before per-resource fencing kept one token for all deletes, all of them issued by this lease:
 * upgrading such a node gives that token to this resource, so no guard is lowered.
 */
export const CHUNK_MAINTENANCE_FENCING_RESOURCE = 'scheduler/chunk-maintenance';

export const CHUNK_LIST_LIMIT_DEFAULT = 1000;
export const CHUNK_LIST_LIMIT_MAX = 10_000;
export const CHUNK_VERIFY_LIMIT_DEFAULT = 256;
export const CHUNK_VERIFY_LIMIT_MAX = 4096;
export const CHUNK_VERIFY_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;
export const CHUNK_VERIFY_MAX_BYTES_MAX = 1024 * 1024 * 1024;

export interface ListChunksParams {
  /** Lowercase hex; only hashes starting with it. */
  readonly prefix?: string;
  /** Lowercase hex; only hashes sorting strictly after it (a previous reply's nextAfter). */
  readonly after?: string;
  /** 1..CHUNK_LIST_LIMIT_MAX, default CHUNK_LIST_LIMIT_DEFAULT. */
  readonly limit?: number;
  /** With `entries` (size and touch time of each hash) in the reply. */
  readonly detail?: boolean;
}

export interface VerifyChunksParams {
  /** Lowercase hex; verify hashes sorting strictly after it. Empty or absent: from the start. */
  readonly after?: string;
  /** Chunks at most, 1..CHUNK_VERIFY_LIMIT_MAX, default CHUNK_VERIFY_LIMIT_DEFAULT. */
  readonly limit?: number;
  /**
   * Bytes read at most, 1..CHUNK_VERIFY_MAX_BYTES_MAX, default CHUNK_VERIFY_MAX_BYTES_DEFAULT; a
   * chunk that would pass it is left for the next call, except the first (one is always read).
   */
  readonly maxBytes?: number;
}

export interface PutChunkReply {
  readonly hash: string;
  readonly sizeBytes: number;
  /** True when the node held the chunk already: it wrote nothing and recorded it as touched now. */
  readonly existed: boolean;
}

export interface ChunkListingEntry {
  readonly hash: string;
  readonly sizeBytes: number;
  /**
   * When the chunk was last written or PUT again on this node, epoch ms, as the node's clock
   * reads it. Never earlier than the node's last start: a restart makes nothing look old.
   */
  readonly touchedAtMs: number;
}

export interface ChunkListingReply {
  /** Ascending. */
  readonly hashes: readonly string[];
  /** Pass as `after` to continue; null when the listing is complete. */
  readonly nextAfter: string | null;
  /** With `detail=true` only: one entry per hash, in the same order. */
  readonly entries?: readonly ChunkListingEntry[];
}

export interface VerifyChunksReply {
  /** Chunks read and re-hashed, corrupt ones included. */
  readonly verifiedCount: number;
  readonly verifiedBytes: number;
  /** Chunks whose bytes did not match their hash: moved aside on the node and reported (ChunkCorruptionFound). */
  readonly corrupt: readonly string[];
  /** Chunks listed but gone when their turn came (deleted meanwhile). */
  readonly missing: readonly string[];
  /** Pass as `after` to continue; null when the walk reached the end of the node's chunks. */
  readonly nextAfter: string | null;
}

/** The body of every error reply; `code` is one of StorageErrorCodes, or INTERNAL. */
export type StorageErrorReply = ErrorReply;

/** Paths of the data plane; query values are hex or decimal and need no escaping beyond the one applied. */
export const StoragePaths = {
  chunks: (params: ListChunksParams = {}): string => `/${STORAGE_CHUNKS_SEGMENT}${queryString(params)}`,
  chunk: (hash: string): string => `/${STORAGE_CHUNKS_SEGMENT}/${encodeURIComponent(hash)}`,
  verify: (params: VerifyChunksParams = {}): string => `/${STORAGE_CHUNKS_SEGMENT}/${STORAGE_VERIFY_SEGMENT}${queryString(params)}`,
} as const;

function queryString(params: object): string {
  const pairs = Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}
