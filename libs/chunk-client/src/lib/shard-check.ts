import { contentHashOf } from '@cairn/hashing';

/** Where a stripe's shard may be had besides the storage nodes (a backup target): its bytes, or null when it is not there either. */
export type ShardSource = (hash: string) => Promise<Uint8Array | null>;

/**
 * Why bytes fetched for `[from, to)` of a shard cannot be used, or null when they can: the length
 * must be what was asked for, and a whole shard (the only piece whose hash is known) must hash to
 * its name.
 */
export function shardProblem(bytes: Uint8Array, shard: { readonly hash: string; readonly shardSizeBytes: number }, from: number, to: number): string | null {
  if (bytes.byteLength !== to - from) return `got ${bytes.byteLength} of ${to - from} bytes`;
  if (from === 0 && to === shard.shardSizeBytes && contentHashOf(bytes) !== shard.hash) return 'hash mismatch';
  return null;
}
