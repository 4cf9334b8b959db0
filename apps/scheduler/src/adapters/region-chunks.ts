import { Inject, Injectable } from '@nestjs/common';
import { ChunkClient, JetStreamUnderReplicationRecorder, regionReplication, StorageClassChunks, type ShardSource } from '@cairn/chunk-client';
import type { ContentHash } from '@cairn/hashing';
import { JetStreamEventStore } from '@cairn/messaging';
import { ChunkHealthSchemaVersions, isErasureCodedChunk, storedHashesOf, type ChunkRef } from '@cairn/protocol';
import { EventClock, SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import type { SchedulerConfig } from '../scheduler.config';
import { ClusterView } from '../cluster/cluster-view';

/**
 * The region's chunks through the replicated chunk path (quorum writes, verified reads with
 * failover), over ClusterView's signed connection pools: what reading the past, backups and
 * restores read and write. Erasure-coded chunks are read the way the S3 gateway reads them
 * (StorageClassChunks: the data shards, else decoded from any k intact shards).
 */
@Injectable()
export class RegionChunks {
  readonly client: ChunkClient;
  private readonly classes: StorageClassChunks;
  private readonly replicationFactor: number;

  constructor(
    private readonly cluster: ClusterView,
    events: JetStreamEventStore,
    clock: EventClock,
    @Inject(SERVICE_IDENTITY) identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) config: SchedulerConfig,
  ) {
    this.replicationFactor = config.CAIRN_REPLICATION_FACTOR;
    // Only reads go through the classes here: the code an erasure-coded chunk was written with is in its reference.
    this.classes = new StorageClassChunks({
      replication: regionReplication(config.CAIRN_REPLICATION_FACTOR),
      client: {
        ring: () => cluster.ring.ring(),
        addressOf: (nodeId) => cluster.ring.addressOf(nodeId),
        pools: cluster.pools,
        underReplication: new JetStreamUnderReplicationRecorder(events, identity.namespace, (event, hash) =>
          clock.envelope(event, hash, ChunkHealthSchemaVersions.ChunkUnderReplicated),
        ),
      },
    });
    this.client = this.classes.client;
  }

  /**
   * An object's bytes in order, chunk by chunk (inline chunks from the version itself). An
   * erasure-coded chunk is read whole and verified against its hash, one chunk in memory at a time;
   * a shard no node holds intact is looked for in `shardsElsewhere` (a backup target) before the
   * stripe is decoded from the other shards.
   */
  async *objectBytes(chunks: readonly ChunkRef[], signal?: AbortSignal, shardsElsewhere?: ShardSource): AsyncGenerator<Buffer> {
    await this.cluster.ring.ready();
    for (const chunk of chunks) {
      signal?.throwIfAborted();
      if (chunk.inline !== undefined) {
        yield Buffer.from(chunk.inline, 'base64');
        continue;
      }
      if (isErasureCodedChunk(chunk)) {
        yield await this.classes.readWhole(chunk, shardsElsewhere);
        continue;
      }
      const read = await this.client.readChunk(chunk.hash as ContentHash);
      for await (const piece of read.stream) yield piece as Buffer;
    }
  }

  /** Whether some node holds every stored hash of the chunk (the ring's replicas asked first, then the other members). */
  async present(chunk: ChunkRef): Promise<boolean> {
    await this.cluster.ring.ready();
    const ring = this.cluster.ring.ring();
    for (const hash of storedHashesOf(chunk)) {
      const preferred = ring.replicasFor(hash as ContentHash, Math.min(this.replicationFactor, ring.members.length)).map((m) => m.nodeId);
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
