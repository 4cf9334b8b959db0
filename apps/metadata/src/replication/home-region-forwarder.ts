import { Injectable } from '@nestjs/common';
import { RpcClient } from '@cairn/messaging';
import { SYNC_SERVICE, SyncRpc, type ForwardedCompletion, type ForwardedWriteOp, type ReplicationConfig } from '@cairn/protocol';
import { MetadataCommandContext } from '../shared/metadata-command-context';

/** A forwarded write waits for the home region this long: the link may be slow, a put's chunks are pulled first. */
const FORWARD_TIMEOUT_MS = 120_000;

/**
 * Writes to an active-passive bucket go to its home region (docs/replication.md): a region that is
 * not the home hands each object-key write to its sync, which has the home commit it (after
 * pulling a put's chunks from here) and answers only once the home has. The version then comes
 * back here by replication like any of the home's changes.
 */
@Injectable()
export class HomeRegionForwarder {
  constructor(
    private readonly rpc: RpcClient,
    private readonly ctx: MetadataCommandContext,
  ) {}

  /** The region that must take a write to a bucket with this replication, or null when it is this one. */
  homeFor(replication: ReplicationConfig): string | null {
    return replication.mode === 'active-passive' && replication.homeRegion !== this.ctx.identity.region ? replication.homeRegion : null;
  }

  forward<T>(homeRegion: string, op: ForwardedWriteOp, request: object, completion?: ForwardedCompletion): Promise<T> {
    return this.rpc.request<T>(SYNC_SERVICE, SyncRpc.forwardWrite, { homeRegion, op, request, ...(completion ? { completion } : {}) }, { timeoutMs: FORWARD_TIMEOUT_MS });
  }
}
