/**
 * How a chunk of `sizeBytes` is laid over k data shards: shard i holds bytes
 * [i·shardSize, (i+1)·shardSize) of the chunk, the last one zero-padded to shardSize.
 */
export function shardSizeFor(sizeBytes: number, dataShards: number): number {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`chunk size ${sizeBytes} must be a non-negative integer`);
  return Math.max(1, Math.ceil(sizeBytes / dataShards));
}

/** The k data shards of a chunk (views into it where whole; a padded copy for the last). */
export function splitIntoDataShards(bytes: Uint8Array, dataShards: number): Uint8Array[] {
  const shardSize = shardSizeFor(bytes.length, dataShards);
  return Array.from({ length: dataShards }, (_, i) => {
    const start = i * shardSize;
    const end = Math.min(bytes.length, start + shardSize);
    if (end - start === shardSize) return bytes.subarray(start, end);
    const padded = new Uint8Array(shardSize);
    if (end > start) padded.set(bytes.subarray(start, end));
    return padded;
  });
}

/** The part of each data shard that `[start, end)` of the chunk covers, in order (only the shards it touches). */
export function dataShardSlices(start: number, end: number, shardSize: number): { readonly shard: number; readonly from: number; readonly to: number }[] {
  const slices: { shard: number; from: number; to: number }[] = [];
  if (end <= start) return slices;
  for (let shard = Math.floor(start / shardSize); shard * shardSize < end; shard++) {
    const base = shard * shardSize;
    slices.push({ shard, from: Math.max(start, base) - base, to: Math.min(end, base + shardSize) - base });
  }
  return slices;
}

/**
 * The erasure code for a stripe over `nodes` distinct failure domains: `preferred` when there are
 * enough (4+2 on six or more), else the widest with one parity that fits (2+1 on three nodes);
 * null when fewer than `minNodes` (a stripe needs at least one parity and two data shards).
 */
export function chooseErasureCode(nodes: number, preferred: { readonly dataShards: number; readonly parityShards: number } = { dataShards: 4, parityShards: 2 }): { readonly dataShards: number; readonly parityShards: number } | null {
  if (nodes >= preferred.dataShards + preferred.parityShards) return preferred;
  if (nodes < 3) return null;
  const parityShards = nodes >= 5 ? 2 : 1;
  return { dataShards: Math.min(preferred.dataShards, nodes - parityShards), parityShards };
}
