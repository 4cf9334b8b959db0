import { Inject, Injectable } from '@nestjs/common';
import { erasureCodeOf, JetStreamUnderReplicationRecorder, regionReplication, StorageClassChunks } from '@cairn/chunk-client';
import { JetStreamEventStore, RpcClient } from '@cairn/messaging';
import {
  CairnError,
  ChunkHealthSchemaVersions,
  METADATA_SERVICE,
  MetadataErrorCodes,
  MetadataRpc,
  type ChangeObjectStorageClassReply,
  type ChangeObjectStorageClassRequest,
  type HeadObjectReply,
  type StorageClass,
} from '@cairn/protocol';
import { EventClock, SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { ClusterView, METADATA_RPC_TIMEOUT_MS } from '../cluster/cluster-view';
import type { SchedulerConfig } from '../scheduler.config';
import type { LifecycleAction } from './lifecycle-pass';

/**
 * Moves a version into another storage class (docs/storage-classes.md "For lifecycle"): each of its
 * stored chunks is read (verified, whatever its layout) and written again in the new class's layout
 * — replicas for STANDARD / REDUCED_REDUNDANCY, a Reed-Solomon stripe for STANDARD_IA / GLACIER_IR in
 * the region's CAIRN_EC_* code —
 * one chunk in memory at a time; then metadata's `changeObjectStorageClass` swaps the version's
 * chunk list in one event, conditioned on the version's etag and class as read, so a reader sees
 * the old list or the new one, never a mix. The old chunks are left to garbage collection; a rewrite
 * cut short by a crash leaves only unreferenced chunks, which GC takes too. Inline chunks stay in
 * metadata as they are.
 */
@Injectable()
export class LifecycleTransitions {
  readonly available: boolean = true;
  private readonly classes: StorageClassChunks;

  constructor(
    private readonly cluster: ClusterView,
    private readonly rpc: RpcClient,
    events: JetStreamEventStore,
    clock: EventClock,
    @Inject(SERVICE_IDENTITY) identity: ServiceIdentity,
    @Inject(SERVICE_CONFIG) config: SchedulerConfig,
  ) {
    this.classes = new StorageClassChunks({
      replication: regionReplication(config.CAIRN_REPLICATION_FACTOR),
      client: {
        ring: () => cluster.ring.ring(),
        addressOf: (nodeId) => cluster.ring.addressOf(nodeId),
        pools: cluster.pools,
        underReplication: new JetStreamUnderReplicationRecorder(events, identity.namespace, (event, hash) => clock.envelope(event, hash, ChunkHealthSchemaVersions.ChunkUnderReplicated)),
      },
      // The gateway's code (the same CAIRN_EC_* settings), narrowed to the ring as it is at each write.
      erasureCode: erasureCodeOf(config),
    });
  }

  /** The META sequence the class change was appended at. */
  async transition(action: LifecycleAction, signal?: AbortSignal): Promise<number> {
    const target = action.storageClass as StorageClass;
    const version = await this.rpc.request<HeadObjectReply>(METADATA_SERVICE, MetadataRpc.headObject, { bucket: action.bucket, key: action.key, versionId: action.versionId }, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
    // The version changed since the pass read it (or the move was made already): leave it.
    if (version.hlc !== action.hlc || version.storageClass !== action.fromStorageClass || version.etag === null || version.storageClass === null) {
      throw new CairnError(MetadataErrorCodes.PreconditionFailed, `${action.key} ${action.versionId} is no longer the ${action.fromStorageClass} version lifecycle read`);
    }
    await this.cluster.ring.ready();
    // Each stored chunk read whole (verified) and written in the target layout; inline chunks and
    // fields such as an encryption iv kept; the same references on a retry.
    const chunks = await this.classes.rewrite(version.chunks, target, signal);
    const request: ChangeObjectStorageClassRequest = {
      bucket: action.bucket,
      key: action.key,
      versionId: action.versionId,
      etag: version.etag,
      fromStorageClass: version.storageClass,
      storageClass: target,
      chunks,
    };
    const reply = await this.rpc.request<ChangeObjectStorageClassReply>(METADATA_SERVICE, MetadataRpc.changeObjectStorageClass, request, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
    return reply.sequence;
  }
}
