import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { RpcClient } from '@cairn/messaging';
import { CairnError, MetadataErrorCodes, MetadataRpc, type JoinNodeRequest, type ListNodesReply, type MembershipReply } from '@cairn/protocol';
import { HealthRegistry, SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { StorageCapacityService } from '../chunks/storage-capacity.service';
import type { StorageConfig } from '../storage.config';

export const REGISTRATION_RETRY_MS = 2_000;
const REGISTRATION_TIMEOUT_MS = 5_000;

export type RegistrationState =
  | { readonly registered: false; readonly lastError?: string }
  | { readonly registered: true; readonly epoch: number; readonly draining: boolean };

/**
 * On start, the node tells metadata it exists (`StorageNodeJoined`: id, zone, host, address,
 * weight, capacity), so the ring includes it. Metadata may start after the node: the node keeps
 * trying in the background and serves its data plane meanwhile. A node that joined before and
 * restarts finds itself a member already, and only updates its capacity: its weight and draining
 * are the operator's (admin API) once it has joined, so the configured weight counts only at the
 * first join.
 */
@Injectable()
export class NodeRegistration implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('NodeRegistration');
  private state: RegistrationState = { registered: false };
  private stopped = false;
  private listeningAt: string | undefined;

  constructor(
    private readonly rpc: RpcClient,
    private readonly capacity: StorageCapacityService,
    private readonly health: HealthRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: StorageConfig,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  get current(): RegistrationState {
    return this.state;
  }

  onApplicationBootstrap(): void {
    this.health.registerInfo('membership', () => ({ ...this.state }));
  }

  /** Called once the data plane listens: only then is the node's address known (port 0 in tests). */
  start(listeningAt: string): void {
    this.listeningAt = listeningAt;
    void this.registerUntilDone();
  }

  onModuleDestroy(): void {
    this.stopped = true;
  }

  private async registerUntilDone(): Promise<void> {
    while (!this.stopped && !this.state.registered) {
      try {
        this.state = { registered: true, ...(await this.registerOnce()) };
        this.logger.log(`member of the ring at epoch ${this.state.epoch}${this.state.draining ? ', draining' : ''}`);
      } catch (error) {
        this.state = { registered: false, lastError: error instanceof Error ? error.message : String(error) };
        await new Promise((r) => setTimeout(r, REGISTRATION_RETRY_MS).unref());
      }
    }
  }

  private async request(): Promise<JoinNodeRequest> {
    const usage = await this.capacity.snapshot();
    return {
      nodeId: this.identity.instance,
      zone: this.config.CAIRN_STORAGE_ZONE,
      host: this.config.CAIRN_STORAGE_HOST ?? hostname(),
      address: this.config.CAIRN_STORAGE_PUBLIC_URL ?? this.listeningAt ?? `http://127.0.0.1:${this.config.CAIRN_HTTP_PORT}`,
      weight: this.config.CAIRN_STORAGE_WEIGHT,
      capacityBytes: usage.capacityBytes,
    };
  }

  private async registerOnce(): Promise<{ readonly epoch: number; readonly draining: boolean }> {
    const join = await this.request();
    try {
      const reply = await this.rpc.request<MembershipReply>('metadata', MetadataRpc.joinNode, join, { timeoutMs: REGISTRATION_TIMEOUT_MS });
      return { epoch: reply.epoch, draining: false };
    } catch (error) {
      if (!(error instanceof CairnError) || error.code !== MetadataErrorCodes.NodeAlreadyJoined) throw error;
      return this.updateCapacity(join);
    }
  }

  /** A member already: the weight it has (perhaps an operator's) goes back unchanged with the capacity. */
  private async updateCapacity(join: JoinNodeRequest): Promise<{ readonly epoch: number; readonly draining: boolean }> {
    const { nodes, epoch } = await this.rpc.request<ListNodesReply>('metadata', MetadataRpc.listNodes, {}, { timeoutMs: REGISTRATION_TIMEOUT_MS });
    const member = nodes.find((n) => n.nodeId === join.nodeId);
    // Removed since the join was refused, or listed by a projection that has not caught up: the next attempt sees which.
    if (!member) throw new Error(`node ${join.nodeId} was refused as already joined but is not listed as a member`);
    if (member.capacityBytes === join.capacityBytes) return { epoch, draining: member.draining };
    const reply = await this.rpc.request<MembershipReply>(
      'metadata',
      MetadataRpc.changeNodeWeight,
      { nodeId: join.nodeId, weight: member.weight, capacityBytes: join.capacityBytes },
      { timeoutMs: REGISTRATION_TIMEOUT_MS },
    );
    return { epoch: reply.epoch, draining: member.draining };
  }
}
