import type { Readable } from 'node:stream';
import type { ContentHash } from '@cairn/hashing';
import type { ByteRange } from './chunk-layout';

export const CHUNK_STORE = Symbol('CHUNK_STORE');

export interface PutChunkResult {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  /** True when the node held the chunk already and wrote nothing. */
  readonly existed: boolean;
  readonly packed: boolean;
}

export interface ChunkReadHandle {
  readonly sizeBytes: number;
  readonly range: ByteRange;
  /** Errors (ChunkCorruptError) instead of ending if the chunk's bytes do not match its hash. */
  readonly stream: Readable;
  /**
   * Call once when done with `stream`: `sent` when all of it has been written out (a response
   * that finished), false otherwise. A whole read's buffer is reused only after `done(true)`;
   * a reader that never calls it makes later reads stream instead of reading whole.
   */
  readonly done?: (sent: boolean) => void;
}

export interface ChunkListingEntry {
  readonly hash: ContentHash;
  readonly sizeBytes: number;
  /** Last written or PUT again, epoch ms; never before the store was opened (see reportedTouchedAtMs). */
  readonly touchedAtMs: number;
}

export interface ChunkListing {
  readonly hashes: readonly ContentHash[];
  /** Pass as `after` to continue; null when the listing is complete. */
  readonly nextAfter: ContentHash | null;
  /** Asked for with `detail`: one per hash, in the same order. */
  readonly entries?: readonly ChunkListingEntry[];
}

export interface ListChunksQuery {
  readonly prefix: string;
  readonly after: string | null;
  readonly limit: number;
  readonly detail?: boolean;
}

export interface DeleteChunkCondition {
  /** Delete only a chunk last touched strictly before this instant (epoch ms). */
  readonly unlessTouchedSinceMs?: number;
}

export type DeleteChunkOutcome = 'deleted' | 'absent' | 'recently-touched';

export interface VerifyChunksQuery {
  /** Verify hashes strictly after this one; null: from the first. */
  readonly after: string | null;
  readonly limit: number;
  readonly maxBytes: number;
}

export interface VerifyChunksReport {
  readonly verifiedCount: number;
  readonly verifiedBytes: number;
  /** Found not to match their hash: quarantined and reported with foundAt 'scrub'. */
  readonly corrupt: readonly ContentHash[];
  /** Listed, then gone before their turn. */
  readonly missing: readonly ContentHash[];
  /** Null when the walk reached the last chunk. */
  readonly nextAfter: ContentHash | null;
}

export interface ChunkStoreUsage {
  readonly chunkCount: number;
  readonly chunkBytes: number;
  readonly packedChunkCount: number;
  readonly packCount: number;
  readonly packFileBytes: number;
  /** Bytes in packs still referenced; a pack far below its file size is due for compaction. */
  readonly packLiveBytes: number;
  /** fsyncs of pack appends, and the records they made durable: their ratio is the group size. */
  readonly packGroupCommits: number;
  readonly packRecordsCommitted: number;
  readonly corruptChunksFound: number;
  readonly capacityBytes: number;
  readonly freeBytes: number;
}

/**
 * Memory a store lends to a body received straight into it (see DirectBody): each read lands in
 * the view `next()` returned, then `landed` says how many bytes did.
 */
export interface BodyWindows {
  /** Where the next bytes go (not empty), or null while the store has no memory free: the body waits for `DirectBody.more()`. Asking twice without a landing gives the same view. */
  next(): Uint8Array | null;
  /** `count` bytes (at least one) landed at the start of the view `next()` last returned. */
  landed(count: number): void;
}

/** The rest of a body, received into memory the store lends rather than handed over piece by piece. */
export interface DirectBody {
  readonly lengthBytes: number;
  /**
   * Receives exactly `lengthBytes` bytes into the windows. Resolves once they have all landed;
   * rejects when the body ends short or its connection fails. Either way nothing lands in a
   * window once it has settled.
   */
  receive(windows: BodyWindows): Promise<void>;
  /** The windows have memory again after `next()` returned null. */
  more(): void;
  /** Gives up on the body: receiving stops and its connection is cut; `receive` rejects. */
  abort(error: Error): void;
}

export interface PutChunkOptions {
  /**
   * Offered for a body whose length was declared: takes the body over for direct receiving.
   * Called at most once, with the declared length; null when it cannot be taken (the body is
   * iterated then).
   */
  readonly takeDirect?: (lengthBytes: number) => DirectBody | null;
}

export interface ChunkStore {
  /**
   * Hashes the body as it arrives and commits it under `hash` only if they match. A chunk held
   * already is not written again but recorded as touched now.
   */
  put(hash: ContentHash, body: AsyncIterable<Uint8Array>, declaredSizeBytes: number | null, options?: PutChunkOptions): Promise<PutChunkResult>;
  /** Null when absent. */
  sizeOf(hash: ContentHash): Promise<number | null>;
  /**
   * With `readerVerifies` (a whole chunk only) the bytes are not hashed here: the reader checks
   * them against the hash itself and asks again without it when they are wrong.
   */
  read(hash: ContentHash, range: ByteRange | null, options?: { readonly readerVerifies?: boolean }): Promise<ChunkReadHandle | null>;
  list(query: ListChunksQuery): Promise<ChunkListing>;
  /**
   * Atomic with respect to PUTs of the same hash: a PUT that lands (writes or touches) before it
   * makes a conditional delete refuse; a PUT that comes after it writes the chunk anew.
   */
  delete(hash: ContentHash, condition?: DeleteChunkCondition): Promise<DeleteChunkOutcome>;
  /** Re-reads and re-hashes chunks in hash order, quarantining and reporting the corrupt ones. */
  verify(query: VerifyChunksQuery): Promise<VerifyChunksReport>;
  usage(): Promise<ChunkStoreUsage>;
  close(): Promise<void>;
}

/** A read served to a client, or the node's scrub (verify). */
export type CorruptChunkFoundAt = 'read' | 'scrub';

export interface CorruptChunkReport {
  readonly hash: ContentHash;
  readonly foundAt: CorruptChunkFoundAt;
  readonly movedTo: string;
  readonly detail: string;
}

/** Where a node says it found a corrupt chunk (a CLUSTER event once messaging is wired in). */
export interface CorruptChunkReporter {
  report(report: CorruptChunkReport): void;
}
