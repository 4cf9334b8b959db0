import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { RpcClient } from '@cairn/messaging';
import { CairnError, SYNC_SERVICE, SyncRpc, type BucketAuthority, type ForwardedCompletion, type ForwardedWriteOp, type ReplicationConfig } from '@cairn/protocol';
import { MetadataCommandContext } from '../shared/metadata-command-context';

/** A forwarded write waits for the home region this long: the link may be slow, a put's chunks are pulled first. */
const FORWARD_TIMEOUT_MS = 120_000;
/** Who the home is, as sync said, is taken as current this long (a failover reaches writes within it). */
const AUTHORITY_TTL_MS = 250;
const AUTHORITY_TIMEOUT_MS = 2_000;
/** A home does not start a write on less lease than this: the append itself must finish inside the lease. */
const LEASE_MARGIN_MS = 250;
/** Requesters' last forwarded writes kept (access key × bucket), the least recently written out. */
const OWN_WRITES_MAX = 100_000;

/** A requester's last write to a bucket that this region forwarded: the home that took it, and that home's stream sequence. */
export interface ForwardedWrite {
  readonly home: string;
  readonly sequence: number;
}

interface KnownAuthority {
  readonly configuredHome: string;
  readonly home: string;
  readonly state: BucketAuthority['state'];
  /** performance.now() until which this region may acknowledge writes (0: it may not). */
  readonly leaseUntilMs: number;
  readonly fetchedAtMs: number;
}

/**
 * Writes to an active-passive bucket go to its home region (docs/replication.md, docs/failover.md).
 * Who the home is comes from this region's sync, which holds the control group's answer (the home
 * and epoch a majority of regions agreed on) and this region's lease. A region that is not the
 * home hands each object-key write to its sync, which has the home commit it; the home commits a
 * write only while its lease holds, before and after the append — so a home cut off from the
 * majority stops acknowledging before any other region can be promoted.
 */
@Injectable()
export class HomeRegionForwarder {
  private readonly known = new Map<string, KnownAuthority>();
  /** `${requester}\n${bucket}` → the requester's last write this region forwarded (read-your-writes here). */
  private readonly ownWrites = new Map<string, ForwardedWrite>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly ctx: MetadataCommandContext,
  ) {}

  /**
   * The region that must take a write to `bucket`, or null when this region takes it (and may:
   * its lease holds). Refuses with SlowDown while a planned switchover drains the bucket, and with
   * ServiceUnavailable while this region is the home but cut off from a majority of regions.
   */
  async homeFor(bucket: string, replication: ReplicationConfig): Promise<string | null> {
    if (replication.mode !== 'active-passive') return null;
    let authority = await this.authorityOf(bucket, replication.homeRegion, false);
    if (authority.home !== this.ctx.identity.region) return authority.home;
    if (authority.leaseUntilMs - performance.now() < LEASE_MARGIN_MS) authority = await this.authorityOf(bucket, replication.homeRegion, true);
    if (authority.home !== this.ctx.identity.region) return authority.home;
    if (authority.state === 'draining') throw new CairnError('SlowDown', `bucket ${bucket} is moving to another home region; retry in a moment`, { bucket });
    if (authority.leaseUntilMs - performance.now() < LEASE_MARGIN_MS) throw this.leaseLapsed(bucket);
    return null;
  }

  /**
   * After a write to `bucket` committed here: it may be acknowledged only if this region is still
   * the home, serving (not draining for a switchover) and holding its lease now — asked afresh,
   * not from the cache, since a drain or a failover may have applied during the append. Otherwise
   * the client hears 503 and retries; the version stays, and replication treats it like any
   * concurrent change. Only writes this region took as an active-passive home are checked.
   */
  async assertStillHome(bucket: string): Promise<void> {
    const taken = this.known.get(bucket);
    if (!taken || taken.home !== this.ctx.identity.region) return;
    const now = await this.authorityOf(bucket, taken.configuredHome, true);
    if (now.home !== this.ctx.identity.region) throw this.leaseLapsed(bucket, `its home moved to ${now.home}`);
    if (now.state === 'draining') throw new CairnError('SlowDown', `bucket ${bucket} is moving to another home region; retry in a moment`, { bucket });
    if (now.leaseUntilMs <= performance.now()) throw this.leaseLapsed(bucket, 'it has lost contact with a majority of regions');
  }

  /**
   * Has the home commit the write; the reply's homeSequence (the home's stream sequence of it) is
   * remembered for the request's requester, whose reads here wait until this region has applied it.
   */
  async forward<T>(homeRegion: string, op: ForwardedWriteOp, request: object, completion?: ForwardedCompletion): Promise<T> {
    const reply = await this.rpc.request<T & { homeSequence?: unknown }>(SYNC_SERVICE, SyncRpc.forwardWrite, { homeRegion, op, request, ...(completion ? { completion } : {}) }, { timeoutMs: FORWARD_TIMEOUT_MS });
    const { requester, bucket } = request as { requester?: unknown; bucket?: unknown };
    if (typeof requester === 'string' && typeof bucket === 'string' && typeof reply.homeSequence === 'number' && reply.homeSequence > 0) {
      this.rememberOwnWrite(requester, bucket, { home: homeRegion, sequence: reply.homeSequence });
    }
    return reply;
  }

  /** The requester's last write to the bucket this region forwarded, if it remembers one. */
  lastForwardedWrite(requester: string, bucket: string): ForwardedWrite | null {
    return this.ownWrites.get(`${requester}\n${bucket}`) ?? null;
  }

  /**
   * The bucket's home as the control group has it (cached briefly); its configured home when sync
   * does not answer — a read must not fail because sync is away.
   */
  async currentHome(bucket: string, replication: ReplicationConfig & { mode: 'active-passive' }): Promise<string> {
    try {
      return (await this.authorityOf(bucket, replication.homeRegion, false)).home;
    } catch {
      return this.known.get(bucket)?.home ?? replication.homeRegion;
    }
  }

  private rememberOwnWrite(requester: string, bucket: string, write: ForwardedWrite): void {
    const key = `${requester}\n${bucket}`;
    const before = this.ownWrites.get(key);
    // A later write is acknowledged after an earlier one; a different home (after a failover) replaces the entry.
    if (before && before.home === write.home && before.sequence >= write.sequence) return;
    this.ownWrites.delete(key);
    this.ownWrites.set(key, write);
    if (this.ownWrites.size > OWN_WRITES_MAX) this.ownWrites.delete(this.ownWrites.keys().next().value!);
  }

  private async authorityOf(bucket: string, configuredHome: string, fresh: boolean): Promise<KnownAuthority> {
    const cached = this.known.get(bucket);
    const now = performance.now();
    if (!fresh && cached && now - cached.fetchedAtMs < AUTHORITY_TTL_MS) return cached;
    const askedAtMs = performance.now();
    const answer = await this.rpc.request<BucketAuthority>(SYNC_SERVICE, SyncRpc.bucketAuthority, { bucket, configuredHome }, { timeoutMs: AUTHORITY_TIMEOUT_MS });
    // The lease counts from when we asked: sync measured it later, so this never overstates it.
    const known: KnownAuthority = {
      configuredHome,
      home: answer.home,
      state: answer.state,
      leaseUntilMs: answer.leaseRemainingMs === null ? 0 : askedAtMs + answer.leaseRemainingMs,
      fetchedAtMs: askedAtMs,
    };
    this.known.set(bucket, known);
    return known;
  }

  private leaseLapsed(bucket: string, why = 'it has lost contact with a majority of regions'): CairnError {
    return new CairnError(
      'ServiceUnavailable',
      `this region took the write as the home of bucket ${bucket}, but ${why}: it does not acknowledge writes until contact returns or another region takes over`,
      { bucket },
    );
  }
}
