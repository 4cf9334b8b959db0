import { Injectable } from '@nestjs/common';
import { PrefixMerkleTree, PrefixMerkleTreeBuilder } from '@cairn/hashing';
import { RpcClient } from '@cairn/messaging';
import {
  ANTI_ENTROPY_TREE_DEPTH,
  METADATA_SERVICE,
  MetadataRpc,
  type AntiEntropyKeyDigest,
  type ListReplicaLeavesReply,
  type ListReplicaLeavesRequest,
} from '@cairn/protocol';
import { KeyDigestFolder } from './replica-digest';

/**
 * Leaves per ListReplicaLeaves page: a key may be 1 KiB, so 500 leaves stay well inside NATS's
 * default 1 MiB payload.
 */
export const REPLICA_LEAVES_PAGE = 500;
/** A tree built for a comparison is reused this long (a peer asks for it level by level). */
export const REPLICA_TREE_TTL_MS = 60_000;
/** A request marked `fresh` rebuilds a tree older than this. */
export const REPLICA_TREE_FRESH_MS = 1_000;
/** Trees kept at once (each about 2.3 MiB at depth 4). */
export const REPLICA_TREES_CACHED = 16;
const LEAVES_RPC_TIMEOUT_MS = 30_000;

export interface BuiltReplicaTree {
  readonly tree: PrefixMerkleTree;
  readonly builtAtMs: number;
  /** ListReplicaLeaves pages read to build it. */
  readonly pages: number;
}

/**
 * This region's anti-entropy trees, built from metadata's leaves (replication.leaves) page by page
 * in key-id order: never more than a page of leaves and the tree's node hashes in memory, whatever
 * the bucket's size. Used both for this region's own comparisons and to answer a peer's.
 */
@Injectable()
export class ReplicaTrees {
  private readonly cache = new Map<string, Promise<BuiltReplicaTree>>();

  constructor(private readonly rpc: RpcClient) {}

  /** The bucket's tree: the cached one unless it is older than the TTL (or than REPLICA_TREE_FRESH_MS when `fresh`). */
  async tree(bucket: string, options: { readonly fresh?: boolean; readonly signal?: AbortSignal } = {}): Promise<BuiltReplicaTree> {
    const cached = this.cache.get(bucket);
    if (cached) {
      const built = await cached.catch(() => undefined);
      const maxAgeMs = options.fresh ? REPLICA_TREE_FRESH_MS : REPLICA_TREE_TTL_MS;
      if (built && Date.now() - built.builtAtMs <= maxAgeMs) return built;
      if (this.cache.get(bucket) !== cached) return this.tree(bucket, options);
    }
    const building = this.build(bucket, options.signal);
    this.cache.delete(bucket);
    this.cache.set(bucket, building);
    while (this.cache.size > REPLICA_TREES_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    building.catch(() => {
      if (this.cache.get(bucket) === building) this.cache.delete(bucket);
    });
    return building;
  }

  /**
   * A page of key digests of the keys whose id starts with `prefix`, after `afterKeyId`: at least
   * `minKeys` keys unless the range ends first. A key split across leaf pages is read whole.
   */
  async keys(bucket: string, prefix: string, afterKeyId: string | undefined, minKeys: number): Promise<{ keys: AntiEntropyKeyDigest[]; nextAfterKeyId: string | null }> {
    const folder = new KeyDigestFolder();
    const keys: AntiEntropyKeyDigest[] = [];
    let position: Pick<ListReplicaLeavesRequest, 'after' | 'afterKeyId'> = afterKeyId ? { afterKeyId } : {};
    for (;;) {
      const page = await this.leaves({ bucket, keyIdPrefix: prefix, ...position, limit: REPLICA_LEAVES_PAGE });
      keys.push(...folder.add(page.leaves));
      if (!page.next) {
        keys.push(...folder.end());
        return { keys, nextAfterKeyId: null };
      }
      // The key still open in the folder is read again by the next request, from after the last whole one.
      if (keys.length >= minKeys) return { keys, nextAfterKeyId: keys[keys.length - 1].keyId };
      position = { after: page.next };
    }
  }

  /** Every key digest of the range. */
  async allKeys(bucket: string, prefix: string, signal?: AbortSignal): Promise<AntiEntropyKeyDigest[]> {
    const out: AntiEntropyKeyDigest[] = [];
    let after: string | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const page = await this.keys(bucket, prefix, after, REPLICA_LEAVES_PAGE);
      out.push(...page.keys);
      if (page.nextAfterKeyId === null) return out;
      after = page.nextAfterKeyId;
    }
  }

  /** The version ids this region holds of one key. */
  async versionIdsOf(bucket: string, keyId: string): Promise<Set<string>> {
    const ids = new Set<string>();
    let after: ListReplicaLeavesRequest['after'];
    for (;;) {
      const page = await this.leaves({ bucket, keyIdPrefix: keyId, ...(after ? { after } : {}), limit: REPLICA_LEAVES_PAGE });
      for (const leaf of page.leaves) ids.add(leaf.versionId);
      if (!page.next) return ids;
      after = page.next;
    }
  }

  private async build(bucket: string, signal: AbortSignal | undefined): Promise<BuiltReplicaTree> {
    const builder = new PrefixMerkleTreeBuilder(ANTI_ENTROPY_TREE_DEPTH);
    const folder = new KeyDigestFolder();
    let after: ListReplicaLeavesRequest['after'];
    let pages = 0;
    for (;;) {
      signal?.throwIfAborted();
      const page = await this.leaves({ bucket, ...(after ? { after } : {}), limit: REPLICA_LEAVES_PAGE });
      pages += 1;
      for (const key of folder.add(page.leaves)) builder.add(key.keyId, key.digest);
      if (!page.next) break;
      after = page.next;
    }
    for (const key of folder.end()) builder.add(key.keyId, key.digest);
    return { tree: builder.build(), builtAtMs: Date.now(), pages };
  }

  private leaves(request: ListReplicaLeavesRequest): Promise<ListReplicaLeavesReply> {
    return this.rpc.request<ListReplicaLeavesReply>(METADATA_SERVICE, MetadataRpc.listReplicaLeaves, request, { timeoutMs: LEAVES_RPC_TIMEOUT_MS });
  }
}
