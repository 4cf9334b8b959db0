import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError } from '@cairn/chunk-client';
import type { ContentHash } from '@cairn/hashing';
import { JetStreamEventStore } from '@cairn/messaging';
import { ChunkHealthSchemaVersions, subjectsFor, type ChunkRepaired } from '@cairn/protocol';
import { EventClock, SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { BytePacer } from '../adapters/byte-pacer';
import { ClusterView } from '../cluster/cluster-view';
import type { SchedulerConfig } from '../scheduler.config';
import { NodeHealthFollower } from './node-health.follower';

export interface CopyOutcome {
  readonly sourceNodeId: string | null;
  readonly sizeBytes: number;
  readonly copiedTo: readonly string[];
  /** Targets that held the chunk already. */
  readonly alreadyThere: readonly string[];
  readonly failed: readonly { readonly nodeId: string; readonly reason: string }[];
}

/**
 * Copies a chunk between storage nodes: reads it whole from the first source whose bytes match
 * its hash (a source with bad bytes is skipped, and is itself a repair case), paces the bytes it
 * will send, and writes it to each target, which re-hashes what it receives. Records
 * `ChunkRepaired` for what it copied. Every copy of the process shares one pace.
 */
@Injectable()
export class ChunkCopier {
  private readonly logger = new Logger('ChunkCopier');
  readonly pacer: BytePacer;
  private copiedBytesTotal = 0;

  constructor(
    private readonly cluster: ClusterView,
    private readonly events: JetStreamEventStore,
    private readonly clock: EventClock,
    private readonly health: NodeHealthFollower,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) config: SchedulerConfig,
  ) {
    this.pacer = new BytePacer(config.CAIRN_REPAIR_BYTES_PER_SECOND);
  }

  get bytesCopied(): number {
    return this.copiedBytesTotal;
  }

  async copy(hash: ContentHash, sources: readonly string[], targets: readonly string[], reason: 'repair' | 'rebalance', signal?: AbortSignal): Promise<CopyOutcome> {
    const failed: { nodeId: string; reason: string }[] = [];
    // Sources declared down are tried last. Targets are not filtered: a copy may be part of the
    // sweep a node's recovery started, before this process has heard of the recovery.
    sources = this.health.upFirst(sources);
    // A target may have been given the chunk since it was judged missing (a read repair, another job): nothing to send.
    const present = await Promise.all(targets.map((t) => this.cluster.nodes.head(t, hash).then((size) => size !== null, () => false)));
    const alreadyThere = targets.filter((_, i) => present[i]);
    const missing = targets.filter((_, i) => !present[i]);
    if (missing.length === 0) return { sourceNodeId: null, sizeBytes: -1, copiedTo: [], alreadyThere, failed };
    let bytes: Buffer | null = null;
    let sourceNodeId: string | null = null;
    for (const source of sources) {
      try {
        bytes = await this.cluster.nodes.readVerified(source, hash, signal);
        sourceNodeId = source;
        break;
      } catch (error) {
        failed.push({ nodeId: source, reason: `as a source: ${describeError(error)}` });
      }
    }
    if (!bytes || !sourceNodeId) return { sourceNodeId: null, sizeBytes: -1, copiedTo: [], alreadyThere, failed };
    await this.pacer.take(bytes.byteLength * missing.length, signal);
    const copiedTo: string[] = [];
    await Promise.all(
      missing.map(async (target) => {
        try {
          const { existed } = await this.cluster.nodes.put(target, hash, bytes, signal);
          (existed ? alreadyThere : copiedTo).push(target);
        } catch (error) {
          failed.push({ nodeId: target, reason: describeError(error) });
        }
      }),
    );
    this.copiedBytesTotal += bytes.byteLength * copiedTo.length;
    if (copiedTo.length > 0) await this.record(hash, bytes.byteLength, sourceNodeId, copiedTo, reason);
    return { sourceNodeId, sizeBytes: bytes.byteLength, copiedTo, alreadyThere, failed };
  }

  private async record(hash: ContentHash, sizeBytes: number, sourceNodeId: string, copiedTo: string[], reason: 'repair' | 'rebalance'): Promise<void> {
    const event: ChunkRepaired = { type: 'ChunkRepaired', data: { hash, sizeBytes, sourceNodeId, copiedTo, reason, ringEpoch: this.cluster.ring.epoch ?? 0 } };
    try {
      await this.events.publish(subjectsFor(this.identity.namespace).chunkHealth(hash), this.clock.envelope(event, hash, ChunkHealthSchemaVersions.ChunkRepaired));
    } catch (error) {
      // The copy is done and durable on the node; only its record is missing.
      this.logger.warn(`could not record the repair of ${hash}: ${describeError(error)}`);
    }
  }
}
