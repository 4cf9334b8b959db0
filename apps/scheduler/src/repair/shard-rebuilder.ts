import { Injectable, Logger } from '@nestjs/common';
import { describeError } from '@cairn/chunk-client';
import { ReedSolomon } from '@cairn/erasure';
import { contentHashOf, type ContentHash, type HashRing } from '@cairn/hashing';
import type { ShardPlacement } from '@cairn/protocol';
import { ClusterView } from '../cluster/cluster-view';
import { ChunkCopier } from './chunk-copier';

export interface RebuildOutcome {
  readonly rebuiltTo: readonly string[];
  readonly failed: readonly { readonly nodeId: string; readonly reason: string }[];
}

/**
 * Rebuilds a lost (or corrupt, hence set aside by its node) shard of an erasure-coded chunk from k
 * other shards of its stripe (docs/storage-classes.md): each read whole and verified against its
 * hash, from the node the placement names first and any other member after it; the rebuilt shard
 * must match its own hash before it is written to the nodes that should hold it. Paced with the
 * copies (the bytes read count).
 */
@Injectable()
export class ShardRebuilder {
  private readonly logger = new Logger('ShardRebuilder');
  private readonly codes = new Map<string, ReedSolomon>();
  private rebuiltTotal = 0;

  constructor(
    private readonly cluster: ClusterView,
    private readonly copier: ChunkCopier,
  ) {}

  /** Shards rebuilt by this process. */
  get shardsRebuilt(): number {
    return this.rebuiltTotal;
  }

  async rebuild(hash: ContentHash, stripes: readonly ShardPlacement[], ring: HashRing, targets: readonly string[], signal?: AbortSignal): Promise<RebuildOutcome> {
    let lastReason = 'no stripe';
    for (const stripe of stripes) {
      signal?.throwIfAborted();
      try {
        const bytes = await this.rebuildFrom(hash, stripe, ring, signal);
        const failed: { nodeId: string; reason: string }[] = [];
        const rebuiltTo: string[] = [];
        for (const nodeId of targets) {
          try {
            await this.cluster.nodes.put(nodeId, hash, bytes, signal);
            rebuiltTo.push(nodeId);
          } catch (error) {
            failed.push({ nodeId, reason: describeError(error) });
          }
        }
        if (rebuiltTo.length > 0) {
          this.rebuiltTotal++;
          this.logger.log(`rebuilt shard ${stripe.index} (${hash}) of ${stripe.stripe} on ${rebuiltTo.join(', ')}`);
        }
        return { rebuiltTo, failed };
      } catch (error) {
        lastReason = describeError(error);
      }
    }
    return { rebuiltTo: [], failed: targets.map((nodeId) => ({ nodeId, reason: lastReason })) };
  }

  private async rebuildFrom(hash: ContentHash, { stripe, index, layout }: ShardPlacement, ring: HashRing, signal?: AbortSignal): Promise<Buffer> {
    const width = layout.dataShards + layout.parityShards;
    if (layout.shards[index] !== hash) throw new Error(`stripe ${stripe} has ${layout.shards[index]} at ${index}, not ${hash}`);
    const placement = ring.replicasFor(stripe as ContentHash, Math.min(width, ring.members.length)).map((m) => m.nodeId);
    const shards: (Uint8Array | null)[] = new Array<Uint8Array | null>(width).fill(null);
    let intact = 0;
    for (let i = 0; i < width && intact < layout.dataShards; i++) {
      if (i === index) continue;
      const placed = placement[i % Math.max(1, placement.length)];
      const candidates = [placed, ...ring.members.map((m) => m.nodeId).filter((n) => n !== placed)].filter((n): n is string => n !== undefined);
      for (const nodeId of candidates) {
        const bytes = await this.cluster.nodes.readVerified(nodeId, layout.shards[i] as ContentHash, signal).catch(() => null);
        if (!bytes) continue;
        await this.copier.pacer.take(bytes.byteLength, signal);
        shards[i] = bytes;
        intact++;
        break;
      }
    }
    if (intact < layout.dataShards) throw new Error(`only ${intact} of the ${layout.dataShards} shards needed to rebuild ${hash} could be read`);
    const key = `${layout.dataShards}+${layout.parityShards}`;
    let code = this.codes.get(key);
    if (!code) this.codes.set(key, (code = new ReedSolomon(layout.dataShards, layout.parityShards)));
    const rebuilt = code.reconstruct(shards)[index];
    const actual = contentHashOf(rebuilt);
    if (actual !== hash) throw new Error(`shard ${index} of ${stripe} rebuilt as ${actual}, not ${hash}`);
    return Buffer.from(rebuilt.buffer, rebuilt.byteOffset, rebuilt.byteLength);
  }
}
