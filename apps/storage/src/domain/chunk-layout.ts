import type { ContentHash } from '@cairn/hashing';
import { CHUNK_LIST_LIMIT_DEFAULT, CHUNK_LIST_LIMIT_MAX } from '@cairn/protocol';

/** Bounds of a storage node, each one named (TigerBeetle style: a limit on everything). */
export const SMALL_CHUNK_THRESHOLD_BYTES_DEFAULT = 64 * 1024;
export const MAX_CHUNK_SIZE_BYTES = 128 * 1024 * 1024;
/** Writes arriving within this window share one fsync… */
export const GROUP_COMMIT_WINDOW_MS_DEFAULT = 2;
/** …unless this much is queued first. */
export const GROUP_COMMIT_MAX_BYTES_DEFAULT = 1024 * 1024;
/** A pack file takes no more appends past this size; a new one is started. */
export const PACK_MAX_SIZE_BYTES = 64 * 1024 * 1024;
/** Body bytes gathered before one write syscall on the large-chunk path. */
export const WRITE_COALESCE_BYTES = 1024 * 1024;
/** O_DIRECT wants memory, file offsets and lengths on this boundary (a page; a multiple of any disk's sector). */
export const DIRECT_IO_ALIGNMENT_BYTES = 4096;
/** One O_DIRECT write of the large-chunk path; a multiple of DIRECT_IO_ALIGNMENT_BYTES and of 64 KiB. */
export const DIRECT_WRITE_BLOCK_BYTES = 1024 * 1024;
/** Aligned blocks per process (two per chunk being written); PUTs past them write through the page cache. */
export const DIRECT_WRITE_BLOCK_COUNT = 32;
export const READ_BUFFER_BYTES = 1024 * 1024;
/**
 * A chunk up to this size is read whole with one read into one buffer and hashed at once before a
 * byte is sent (fewer, larger operations than streaming it); a larger one streams in
 * READ_BUFFER_BYTES pieces.
 */
export const WHOLE_READ_MAX_BYTES = 16 * 1024 * 1024;
/**
 * A whole read for a reader that verifies the chunk itself is read this much at a time, each piece
 * sent as soon as it is in, while the disk reads the next.
 */
export const WHOLE_READ_PIECE_BYTES = 2 * 1024 * 1024;
/** Whole reads in flight at most (each holds up to WHOLE_READ_MAX_BYTES); past it reads stream. */
export const WHOLE_READS_IN_FLIGHT_MAX = 4;
/** Whole-read buffers of this size are kept for reuse (the default chunk size), at most the count above. */
export const READ_BUFFER_POOL_BUFFER_BYTES = 8 * 1024 * 1024;
export const LIST_LIMIT_DEFAULT = CHUNK_LIST_LIMIT_DEFAULT;
export const LIST_LIMIT_MAX = CHUNK_LIST_LIMIT_MAX;

export const CHUNKS_DIR = 'chunks';
export const PACKS_DIR = 'packs';
export const TEMP_DIR = 'tmp';
export const CORRUPT_DIR = 'corrupt';
export const FENCING_TOKEN_FILE = 'fencing-token.json';
/**
 * Lock resources a node keeps a highest fencing token for. Past it a DELETE under a resource it
 * has not seen is refused (FENCING_RESOURCES_EXHAUSTED) rather than the file growing without limit;
 * resources it knows keep working. A region fences deletes by a handful of leases.
 */
export const FENCING_RESOURCES_MAX = 1024;

/** `chunks/ab/cd/<hash>`: two levels of 256 directories keep each directory small. */
export function chunkRelativePath(hash: ContentHash): string {
  return `${CHUNKS_DIR}/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}`;
}

export function packFileName(packId: number): string {
  return `pack-${packId.toString().padStart(8, '0')}.cpk`;
}

const PACK_FILE_PATTERN = /^pack-(\d{8})\.cpk$/;

export function parsePackFileName(name: string): number | null {
  const m = PACK_FILE_PATTERN.exec(name);
  return m ? Number(m[1]) : null;
}

export interface ByteRange {
  /** Inclusive. */
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export type RangeRequest = { readonly kind: 'none' } | { readonly kind: 'range'; readonly range: ByteRange } | { readonly kind: 'unsatisfiable' };

const SINGLE_RANGE_PATTERN = /^bytes=(\d*)-(\d*)$/;

/**
 * One `Range: bytes=…` against a chunk of `sizeBytes` (RFC 9110 §14). A header this node does
 * not understand (several ranges, other units) is ignored, which the RFC allows: the whole chunk
 * is served.
 */
export function resolveRange(header: string | undefined, sizeBytes: number): RangeRequest {
  if (header === undefined) return { kind: 'none' };
  const m = SINGLE_RANGE_PATTERN.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'none' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || sizeBytes === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, sizeBytes - suffix), end: sizeBytes } };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? sizeBytes - 1 : Math.min(Number(m[2]), sizeBytes - 1);
  if (start >= sizeBytes || last < start) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end: last + 1 } };
}

/**
 * Fencing (docs/architecture.md §5): a token older than the highest one seen is refused. An equal one
 * is accepted, since one GC lease deletes many chunks under the same token.
 */
export function isFencingTokenAcceptable(token: number, highestSeen: number): boolean {
  return token >= highestSeen;
}

export function parseFencingToken(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,15}$/.test(header)) return null;
  return Number(header);
}
