import { Inject, Injectable } from '@nestjs/common';
import { ChunkClient, JetStreamUnderReplicationRecorder } from '@cairn/chunk-client';
import type { ContentHash } from '@cairn/hashing';
import { JetStreamEventStore } from '@cairn/messaging';
import { ChunkHealthSchemaVersions, storedHashesOf, type ChunkRef } from '@cairn/protocol';
import { EventClock, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { ClusterView } from '../cluster/cluster-view';

/**
 * The region's chunks through the replicated chunk path (quorum writes, verified reads with
 * failover), over ClusterView's signed connection pools: what reading the past, backups and
 * restores read and write.
 */
@Injectable()
export class RegionChunks {
  readonly client: ChunkClient;

  constructor(
    private readonly cluster: ClusterView,
    events: JetStreamEventStore,
    clock: EventClock,
    @Inject(SERVICE_IDENTITY) identity: ServiceIdentity,
  ) {
    this.client = new ChunkClient({
      ring: () => cluster.ring.ring(),
      addressOf: (nodeId) => cluster.ring.addressOf(nodeId),
      pools: cluster.pools,
      underReplication: new JetStreamUnderReplicationRecorder(events, identity.namespace, (event, hash) =>
        clock.envelope(event, hash, ChunkHealthSchemaVersions.ChunkUnderReplicated),
      ),
    });
  }

  /** An object's bytes in order, chunk by chunk (inline chunks from the version itself). Erasure-coded chunks are not read here. */
  async *objectBytes(chunks: readonly ChunkRef[], signal?: AbortSignal): AsyncGenerator<Buffer> {
    await this.cluster.ring.ready();
    for (const chunk of chunks) {
      signal?.throwIfAborted();
      if (chunk.inline !== undefined) {
        yield Buffer.from(chunk.inline, 'base64');
        continue;
      }
      if ((chunk as { erasure?: unknown }).erasure) throw new Error(`chunk ${chunk.hash} is erasure-coded: reading it back here is not supported yet`);
      const read = await this.client.readChunk(chunk.hash as ContentHash);
      for await (const piece of read.stream) yield piece as Buffer;
    }
  }

  /** Whether some node holds every stored hash of the chunk (the ring's replicas asked first, then the other members). */
  async present(chunk: ChunkRef): Promise<boolean> {
    await this.cluster.ring.ready();
    const ring = this.cluster.ring.ring();
    for (const hash of storedHashesOf(chunk)) {
      const preferred = ring.replicasFor(hash as ContentHash, Math.min(3, ring.members.length)).map((m) => m.nodeId);
      const order = [...preferred, ...ring.members.map((m) => m.nodeId).filter((id) => !preferred.includes(id))];
      let found = false;
      for (const nodeId of order) {
        const size = await this.cluster.nodes.head(nodeId, hash as ContentHash).catch(() => null);
        if (size !== null) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
}
