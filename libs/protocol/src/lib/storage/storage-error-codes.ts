/**
 * Stable codes of a storage node's data-plane errors, and the HTTP status each is answered with.
 * The body of every error reply is an ErrorReply `{ code, message, details? }`.
 */
export const StorageErrorCodes = {
  HashMismatch: 'CHUNK_HASH_MISMATCH',
  ChunkTooLarge: 'CHUNK_TOO_LARGE',
  ChunkCorrupt: 'CHUNK_CORRUPT',
  NoSuchChunk: 'NO_SUCH_CHUNK',
  InvalidHash: 'INVALID_CHUNK_HASH',
  FencingTokenStale: 'FENCING_TOKEN_STALE',
  FencingTokenMissing: 'FENCING_TOKEN_MISSING',
  /** A DELETE without `x-cairn-fencing-resource`. */
  FencingResourceMissing: 'FENCING_RESOURCE_MISSING',
  /** A DELETE naming a resource the node has never seen when it already keeps tokens for as many as it may. */
  FencingResourcesExhausted: 'FENCING_RESOURCES_EXHAUSTED',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  BodyAborted: 'BODY_ABORTED',
  /** A conditional DELETE found the chunk touched at or after `x-cairn-unless-touched-since`. */
  ChunkRecentlyWritten: 'CHUNK_RECENTLY_WRITTEN',
  /** A query parameter or header that does not parse or is out of bounds. */
  InvalidRequest: 'INVALID_STORAGE_REQUEST',
  /** The node's disk is down to its reserve (or out of space): it takes no new chunk until space is freed. */
  StorageFull: 'STORAGE_FULL',
} as const;
export type StorageErrorCode = (typeof StorageErrorCodes)[keyof typeof StorageErrorCodes];

export const StorageStatusByErrorCode: Readonly<Record<StorageErrorCode, number>> = {
  [StorageErrorCodes.InvalidHash]: 400,
  [StorageErrorCodes.HashMismatch]: 400,
  [StorageErrorCodes.FencingTokenMissing]: 400,
  [StorageErrorCodes.FencingResourceMissing]: 400,
  [StorageErrorCodes.InvalidRequest]: 400,
  // Rarely seen: the node closes the connection of a body that ended early instead of answering.
  [StorageErrorCodes.BodyAborted]: 400,
  [StorageErrorCodes.NoSuchChunk]: 404,
  [StorageErrorCodes.FencingTokenStale]: 409,
  [StorageErrorCodes.ChunkRecentlyWritten]: 409,
  [StorageErrorCodes.ChunkTooLarge]: 413,
  [StorageErrorCodes.UnsupportedMediaType]: 415,
  [StorageErrorCodes.ChunkCorrupt]: 500,
  [StorageErrorCodes.FencingResourcesExhausted]: 507,
  [StorageErrorCodes.StorageFull]: 507,
};
