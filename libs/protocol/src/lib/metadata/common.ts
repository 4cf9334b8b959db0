/** Vocabulary shared by the metadata events, RPC contract and views: limits, storage classes, chunk lists. */

/** S3's version id of the version written while versioning is off or suspended. */
export const NULL_VERSION_ID = 'null';

/**
 * S3's names (docs/storage-classes.md): STANDARD and REDUCED_REDUNDANCY keep whole copies of each
 * chunk; STANDARD_IA and GLACIER_IR keep each chunk as a Reed-Solomon stripe of k data and m parity
 * shards on k+m distinct nodes (ChunkRef.erasure).
 */
export const StorageClasses = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'GLACIER_IR'] as const;
export type StorageClass = (typeof StorageClasses)[number];
export const DEFAULT_STORAGE_CLASS: StorageClass = 'STANDARD';

/** The classes whose chunks are erasure-coded rather than replicated. */
export const ERASURE_CODED_STORAGE_CLASSES: readonly StorageClass[] = ['STANDARD_IA', 'GLACIER_IR'];

export function isErasureCodedClass(storageClass: string | null | undefined): boolean {
  return (ERASURE_CODED_STORAGE_CLASSES as readonly string[]).includes(storageClass ?? '');
}

export function isStorageClass(value: unknown): value is StorageClass {
  return typeof value === 'string' && (StorageClasses as readonly string[]).includes(value);
}

/**
 * The names events carried before the classes took S3's (REDUCED; COLD, which was kept as three
 * copies until erasure coding existed), lifted by the metadata upcasters.
 */
export function currentStorageClassName(value: string): string {
  if (value === 'REDUCED') return 'REDUCED_REDUNDANCY';
  if (value === 'COLD') return 'STANDARD';
  return value;
}

/**
 * The region's replication factor where the operator sets none (CAIRN_REPLICATION_FACTOR): the
 * whole copies of a STANDARD chunk, and of a chunk named under a class this code does not know.
 */
export const DEFAULT_REPLICATION_FACTOR = 3;
/** The ring places at most this many distinct replicas of a hash (RING_MAX_REPLICAS in @cairn/hashing). */
export const MAX_REPLICATION_FACTOR = 16;
/** REDUCED_REDUNDANCY keeps at most this many copies, fewer only when the region keeps fewer of STANDARD. */
export const REDUCED_REDUNDANCY_MAX_COPIES = 2;

export function isReplicationFactor(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_REPLICATION_FACTOR;
}

/**
 * How many storage nodes keep each replicated chunk of a version or upload of a storage class, in a
 * region whose replication factor (STANDARD's copies) is `regionReplicationFactor`: what the
 * gateway writes and what the repair sweep restores. A chunk named under several classes needs the
 * highest of them. An erasure-coded class's stripes are not chunks the nodes hold (their shards
 * are, once each); a whole chunk named under one (written while the ring was too small to stripe)
 * is kept like STANDARD, and so is a chunk of a class this code does not know: the safe side.
 */
export function replicationFactorOf(storageClass: string | null | undefined, regionReplicationFactor: number): number {
  if (!isReplicationFactor(regionReplicationFactor)) throw new RangeError(`replication factor ${regionReplicationFactor} must be an integer in 1..${MAX_REPLICATION_FACTOR}`);
  return storageClass === 'REDUCED_REDUNDANCY' ? Math.min(REDUCED_REDUNDANCY_MAX_COPIES, regionReplicationFactor) : regionReplicationFactor;
}

export const VersioningStatuses = ['Unversioned', 'Enabled', 'Suspended'] as const;
export type VersioningStatus = (typeof VersioningStatuses)[number];

export type ReplicationConfig =
  | { readonly mode: 'local' }
  /**
   * readStalenessSeconds: how far behind the home another region's copy may be for that region to
   * serve reads itself (docs/failover.md); absent, the default: read-your-writes for each client's
   * own writes through that region, and otherwise whatever the region holds.
   */
  | { readonly mode: 'active-passive'; readonly homeRegion: string; readonly readStalenessSeconds?: number }
  | { readonly mode: 'active-active' };
export type ReplicationMode = ReplicationConfig['mode'];
/** The widest per-bucket read staleness bound: a day. */
export const READ_STALENESS_SECONDS_MAX = 86_400;

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** One content-addressed chunk of an object (or part), at its byte offset within it. */
export interface ChunkRef {
  /** SHA-256 hex of the chunk's bytes. */
  readonly hash: string;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  /**
   * The chunk's bytes (base64) when the whole body was small enough to live in metadata rather than
   * on storage nodes (at most MetadataLimits.inlineChunkMaxBytes): a small object then costs one
   * metadata write and one read, and its durability is that of the metadata stream.
   */
  readonly inline?: string;
  /**
   * Set on chunks of an encrypted version (ObjectEncryption): base64 of the 16-byte AES-256-CTR
   * initial counter the chunk was encrypted with. `hash` is then the SHA-256 of the ciphertext.
   */
  readonly iv?: string;
  /**
   * Set when the chunk is erasure-coded (STANDARD_IA, GLACIER_IR): no node holds `hash`; its bytes
   * are split into `dataShards` shards of `shardSizeBytes` (the last zero-padded), `parityShards`
   * Reed-Solomon parity shards are added, and each shard is a content-addressed chunk of its own,
   * shard i placed on the i-th of the ring's k+m distinct nodes for `hash`.
   */
  readonly erasure?: ErasureLayout;
}

/** The stripe of one erasure-coded chunk (ChunkRef.erasure). */
export interface ErasureLayout {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly shardSizeBytes: number;
  /** SHA-256 hex of each shard, data shards first; dataShards + parityShards of them. */
  readonly shards: readonly string[];
}

export function isErasureCodedChunk(chunk: ChunkRef): chunk is ChunkRef & { readonly erasure: ErasureLayout } {
  return chunk.erasure !== undefined;
}

/** A chunk whose bytes travel in the chunk reference itself, never stored on a storage node. */
export function isInlineChunk(chunk: ChunkRef): chunk is ChunkRef & { readonly inline: string } {
  return chunk.inline !== undefined;
}

/** The S3 additional checksums, base64 as S3 sends them; each one optional. */
export interface Checksums {
  readonly crc32?: string;
  readonly crc32c?: string;
  readonly crc64nvme?: string;
  readonly sha1?: string;
  readonly sha256?: string;
}

/**
 * How a multipart upload's object is checksummed (S3's x-amz-checksum-algorithm and -type at
 * CreateMultipartUpload): COMPOSITE is the algorithm over the parts' checksums (`<base64>-<n>`);
 * FULL_OBJECT is the CRC of the whole object, combined from the parts' CRCs.
 */
export interface UploadChecksum {
  readonly algorithm: keyof Checksums;
  readonly type: 'COMPOSITE' | 'FULL_OBJECT';
}

/** The checksum types S3 allows with each algorithm of a multipart upload; the first is the default. */
export const UPLOAD_CHECKSUM_TYPES: Readonly<Record<keyof Checksums, readonly UploadChecksum['type'][]>> = {
  crc32: ['COMPOSITE', 'FULL_OBJECT'],
  crc32c: ['COMPOSITE', 'FULL_OBJECT'],
  crc64nvme: ['FULL_OBJECT'],
  sha1: ['COMPOSITE'],
  sha256: ['COMPOSITE'],
};

export type UserMetadata = Readonly<Record<string, string>>;

/**
 * The standard HTTP headers S3 stores with an object besides Content-Type, and returns on GET and
 * HEAD: keyed by lower-case header name, each one optional. Content-Encoding never includes
 * `aws-chunked` (a transfer encoding of the upload, not of the object).
 */
export const ContentHeaderNames = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
  'x-amz-website-redirect-location',
] as const;
export type ContentHeaderName = (typeof ContentHeaderNames)[number];
export type ContentHeaders = Readonly<Partial<Record<ContentHeaderName, string>>>;

export const MetadataLimits = {
  bucketNameMinChars: 3,
  bucketNameMaxChars: 63,
  keyMaxBytes: 1024,
  /** S3 limits user-defined metadata (names + values, UTF-8) to 2 KB. */
  userMetadataMaxBytes: 2048,
  /** The stored content headers (names + values, UTF-8) together; S3 bounds a request's headers by 8 KB. */
  contentHeadersMaxBytes: 8192,
  bucketTagsMax: 50,
  objectTagsMax: 10,
  tagKeyMaxChars: 128,
  tagValueMaxChars: 256,
  /** 5 TiB at 8 MiB chunks. */
  chunksPerVersionMax: 655_360,
  /** The largest chunk metadata keeps inline (ChunkRef.inline); gateways choose their own threshold below it. */
  inlineChunkMaxBytes: 64 * 1024,
  objectSizeMaxBytes: 5 * 1024 ** 4,
  partNumberMin: 1,
  partNumberMax: 10_000,
  partSizeMinBytes: 5 * 1024 ** 2,
  partSizeMaxBytes: 5 * 1024 ** 3,
  listMaxKeys: 1000,
  nodeWeightMin: 1,
  nodeWeightMax: 1_000_000,
} as const;
