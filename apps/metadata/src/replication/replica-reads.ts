import { Injectable } from '@nestjs/common';
import { RpcClient } from '@cairn/messaging';
import { readsMayWaitForReplication } from '@cairn/key-reads';
import { CairnError, SYNC_SERVICE, SyncRpc, type ReplicaPosition } from '@cairn/protocol';
import { BucketCommandsHandler, type BucketRead } from '../bucket/bucket-commands.handler';
import { replicaReadDecision, type ReplicaReadDecision } from '../domain/replication/replica-read';
import { MetadataCommandContext } from '../shared/metadata-command-context';
import { HomeRegionForwarder } from './home-region-forwarder';

/** A read held back by its bucket's staleness waits at most this long for replication before it is refused. */
export const REPLICA_READ_WAIT_MS = 1_000;
const REPLICA_READ_POLL_MS = 50;
const POSITION_TIMEOUT_MS = 500;

/**
 * Reads of an active-passive bucket in a region that is not its home (docs/failover.md): served
 * from this region's copy when it is current enough for the bucket (replicaReadDecision) — else
 * the read waits up to a second for replication, then is refused with 503 SlowDown naming the
 * home, where the client can read instead. Reads at the home, and of other buckets, pass at once.
 */
@Injectable()
export class ReplicaReads {
  constructor(
    private readonly rpc: RpcClient,
    private readonly ctx: MetadataCommandContext,
    private readonly buckets: BucketCommandsHandler,
    private readonly forwarder: HomeRegionForwarder,
  ) {}

  /**
   * Resolves once this region may answer `requester`'s read of `bucket` from its own copy: true
   * when that needed replication to have reached a point (a listing then waits for the local
   * projection to catch up with what was applied), false when nothing held it back. `bucketRead`:
   * the bucket as the caller just read it, so it is not read twice.
   */
  async admit(bucket: string, requester: string | undefined, bucketRead?: BucketRead): Promise<boolean> {
    const read = bucketRead ?? (await this.buckets.read(bucket));
    const replication = read.state.status === 'live' ? read.state.replication : null;
    // The gateway reads other buckets' keys itself (apps/access direct-object-reads.ts) on this same test.
    if (!readsMayWaitForReplication(replication)) return false;
    const forwarded = requester ? this.forwarder.lastForwardedWrite(requester, bucket) : null;
    const boundSeconds = replication.readStalenessSeconds ?? null;
    if (!forwarded && boundSeconds === null) return false;
    const home = await this.forwarder.currentHome(bucket, replication);
    if (home === this.ctx.identity.region) return false;
    // A write taken by an earlier home is not waited for: after a failover it may be among what the
    // old home took but never sent (the RPO), which no wait here can bring before that home returns.
    const ownWrite = forwarded?.home === home ? forwarded : null;
    if (!ownWrite && boundSeconds === null) return false;
    const deadline = Date.now() + REPLICA_READ_WAIT_MS;
    for (;;) {
      const position = await this.position(home);
      const decision: ReplicaReadDecision = replicaReadDecision({
        ownWrite: ownWrite ? { sequence: ownWrite.sequence, appliedThrough: position?.appliedThrough ?? null } : null,
        bound: boundSeconds !== null ? { seconds: boundSeconds, stalenessMs: position?.stalenessMs ?? null } : null,
      });
      if (decision.local) return true;
      if (Date.now() >= deadline) {
        throw new CairnError('SlowDown', `bucket ${bucket} is not current enough in ${this.ctx.identity.region} to serve this read: ${decision.reason}; retry, or read from its home region ${home}`, {
          bucket,
          homeRegion: home,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, REPLICA_READ_POLL_MS));
    }
  }

  private position(source: string): Promise<ReplicaPosition | null> {
    return this.rpc.request<ReplicaPosition>(SYNC_SERVICE, SyncRpc.replicaPosition, { source }, { timeoutMs: POSITION_TIMEOUT_MS }).catch(() => null);
  }
}
