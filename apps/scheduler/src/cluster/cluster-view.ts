import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { NodePools, StorageNodeClient, StorageRingProvider } from '@cairn/chunk-client';
import { RpcClient } from '@cairn/messaging';
import {
  METADATA_SERVICE,
  MetadataRpc,
  type ListChunkReferencesReply,
  type ListChunkReferencesRequest,
  type ListNodesReply,
  type MembershipReply,
  type RingEpochReply,
  type StorageCapacityReply,
} from '@cairn/protocol';
import { abortable, ClusterCredentials, internalTlsTrust, IntervalWorker, SERVICE_CONFIG, type BaseServiceConfig, SERVICE_IDENTITY, WorkerRegistry, type ServiceIdentity } from '@cairn/service-kit';

/** How often the ring epoch is checked; a membership change starts a sweep within this. */
export const RING_FOLLOW_INTERVAL_MS = 1_000;
export const METADATA_RPC_TIMEOUT_MS = 30_000;

/**
 * The scheduler's view of the region: the placement ring (followed as membership changes), the
 * storage nodes' data planes, and metadata's membership and chunk references.
 */
@Injectable()
export class ClusterView implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ClusterView');
  readonly ring: StorageRingProvider;
  readonly pools: NodePools;
  readonly nodes: StorageNodeClient;
  private readonly follower: IntervalWorker;
  private readonly epochListeners: ((epoch: number) => void)[] = [];
  private lastEpoch: number | null = null;
  /** The CLUSTER sequence of the last membership change made here: reads wait for the projection to reach it. */
  private membershipSequence = 0;

  constructor(
    private readonly rpc: RpcClient,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) readonly identity: ServiceIdentity,
    credentials: ClusterCredentials,
    @Inject(SERVICE_CONFIG) config: BaseServiceConfig,
  ) {
    this.ring = new StorageRingProvider(() => this.listNodes(), () => this.metadata<RingEpochReply>(MetadataRpc.ringEpoch, this.readYourWrites()));
    this.pools = new NodePools((nodeId) => this.ring.addressOf(nodeId), credentials.httpInterceptor(), internalTlsTrust(config));
    this.nodes = new StorageNodeClient(this.pools);
    this.follower = new IntervalWorker('ring-follower', RING_FOLLOW_INTERVAL_MS, (signal) => abortable(this.follow(), signal), { runImmediately: true });
  }

  onModuleInit(): void {
    this.workers.register(this.follower);
    this.follower.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.follower.stop();
    this.workers.unregister(this.follower.name);
    await this.pools.close();
  }

  /** Called with the new epoch whenever membership changes (not for the first load). */
  onEpochChange(listener: (epoch: number) => void): void {
    this.epochListeners.push(listener);
  }

  listNodes(): Promise<ListNodesReply> {
    return this.metadata<ListNodesReply>(MetadataRpc.listNodes, this.readYourWrites());
  }

  listChunkReferences(request: ListChunkReferencesRequest): Promise<ListChunkReferencesReply> {
    return this.metadata<ListChunkReferencesReply>(MetadataRpc.listChunkReferences, request);
  }

  /** Bytes per storage class, logical and on the nodes (capacity accounting). */
  storageCapacity(): Promise<StorageCapacityReply> {
    return this.metadata<StorageCapacityReply>(MetadataRpc.storageCapacity, {});
  }

  /** A membership command; later reads of membership and the ring see its effect. */
  async membership(pattern: string, payload: unknown): Promise<MembershipReply> {
    const reply = await this.metadata<MembershipReply>(pattern, payload);
    this.membershipSequence = Math.max(this.membershipSequence, reply.sequence);
    return reply;
  }

  private readYourWrites(): { minSequence?: number } {
    return this.membershipSequence > 0 ? { minSequence: this.membershipSequence } : {};
  }

  private metadata<T>(pattern: string, payload: unknown): Promise<T> {
    return this.rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: METADATA_RPC_TIMEOUT_MS });
  }

  private async follow(): Promise<void> {
    await this.ring.followEpoch();
    const epoch = this.ring.epoch;
    if (epoch === null || epoch === this.lastEpoch) return;
    const first = this.lastEpoch === null;
    this.lastEpoch = epoch;
    if (first) return;
    this.logger.log(`ring epoch ${epoch}`);
    for (const listener of this.epochListeners) listener(epoch);
  }
}
