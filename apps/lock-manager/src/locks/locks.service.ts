import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RaftErrorCodes } from '@cairn/consensus-runtime';
import { RpcClient } from '@cairn/messaging';
import {
  CairnError,
  ErrorCodes,
  LOCK_MANAGER_SERVICE,
  type AcquireLockRequest,
  type LockGrant,
  type LockInspection,
  type LockPattern,
  type LockRelease,
  type LockRenewal,
  type ReleaseLockRequest,
  type RenewLockRequest,
} from '@cairn/protocol';
import type { LockEvent } from '../domain/lock.events';
import { inspectLock } from '../domain/lock-table.state-machine';
import { hashOfPresentedSecret, newLeaseSecret } from './lease-secret';
import { LockRaftNode } from './lock-raft-node.service';
import type { LockTableReplica } from './lock-table.replica';

/**
 * Beyond the wait itself, how long a queued acquire waits for the replicated timeout to apply
 * (the leader commits time every ADVANCE_TIME_INTERVAL_MS) before giving up on this replica.
 */
export const WAIT_GRACE_MS = 2_000;
/** A forwarded operation that does not wait for a lock. */
export const FORWARD_TIMEOUT_MS = 2_500;
/**
 * The longest a replica waits on its own applied table for an acquire that is already queued
 * (a client re-sending it); the client re-sends again well before this.
 */
export const LOCAL_WATCH_MAX_MS = 5_000;

/** The per-instance subject pattern a follower forwards to: `rpc.lock-manager.<instance>.<op>`. */
export function instancePattern(instance: string, op: LockPattern): string {
  return `${instance}.${op}`;
}

/**
 * The lock operations. On the leader they become Raft proposals stamped with the leader's clock;
 * a follower forwards them to the leader it knows (one hop: a forwarded request that lands on a
 * replica that no longer leads is answered RAFT_NOT_LEADER with the hint, and the client retries).
 */
@Injectable()
export class LocksService {
  constructor(
    private readonly raft: LockRaftNode,
    private readonly rpc: RpcClient,
  ) {}

  /**
   * The replica that receives an acquire without a secret draws one; it travels with the request
   * to the leader, which puts its hash in the log, and comes back in the grant.
   */
  acquire(request: AcquireLockRequest, forwarded = false): Promise<LockGrant> {
    const withId = { ...request, requestId: request.requestId ?? randomUUID(), leaseSecret: request.leaseSecret ?? newLeaseSecret() };
    // A re-sent acquire (the client lost the reply or gave up on an attempt, e.g. one in flight to
    // a leader that died) that this replica has already seen applied needs no Raft round.
    const known = request.requestId === undefined ? undefined : this.acquireAlreadyApplied(withId);
    if (known) return known;
    return this.onLeader('acquire', withId, forwarded, request.waitMs + WAIT_GRACE_MS + FORWARD_TIMEOUT_MS, () => this.acquireHere(withId));
  }

  renew(request: RenewLockRequest, forwarded = false): Promise<LockRenewal> {
    return this.onLeader('renew', request, forwarded, FORWARD_TIMEOUT_MS, async () => {
      const secretHash = hashOfPresentedSecret(request.leaseSecret);
      const events = await this.raft.propose({ type: 'RenewLock', ...pick(request, ['resource', 'owner', 'fencingToken', 'ttlMs']), secretHash, nowMs: Date.now() });
      const outcome = events.find((e) => e.resource === request.resource && e.owner === request.owner && (e.type === 'LockRenewed' || (e.type === 'LockRefused' && e.requestId === '')));
      if (outcome?.type === 'LockRenewed') return { resource: outcome.resource, owner: outcome.owner, fencingToken: outcome.fencingToken, expiresAtMs: outcome.expiresAtMs };
      throw refusalError(outcome);
    });
  }

  release(request: ReleaseLockRequest, forwarded = false): Promise<LockRelease> {
    return this.onLeader('release', request, forwarded, FORWARD_TIMEOUT_MS, async () => {
      const secretHash = hashOfPresentedSecret(request.leaseSecret);
      const events = await this.raft.propose({ type: 'ReleaseLock', ...pick(request, ['resource', 'owner', 'fencingToken']), secretHash, nowMs: Date.now() });
      const outcome = events.find((e) => e.resource === request.resource && e.owner === request.owner && (e.type === 'LockReleased' || (e.type === 'LockRefused' && e.requestId === '')));
      if (outcome?.type === 'LockReleased') return { resource: outcome.resource, owner: outcome.owner, fencingToken: outcome.fencingToken };
      throw refusalError(outcome);
    });
  }

  /** Linearizable on any replica: a ReadIndex through the leader, then the local table. Never shows a secret or its hash. */
  async inspect(resource: string): Promise<LockInspection> {
    await this.raft.awaitLeader();
    const state = await this.raft.read();
    const r = inspectLock(state, resource);
    return {
      resource,
      nowMs: r.nowMs,
      lastFencingToken: r.lastFencingToken,
      holders: r.holders.map(({ owner, mode, fencingToken, expiresAtMs }) => ({ owner, mode, fencingToken, expiresAtMs })),
      waiters: r.waiters.map(({ owner, mode, deadlineMs }) => ({ owner, mode, deadlineMs })),
    };
  }

  /**
   * The outcome of an acquire with this request id that this replica has applied: its grant if
   * it still holds (the grant was made while the client's earlier attempt was lost), or, while
   * it is queued, a wait on this replica's table for the grant or refusal. Both are committed
   * state, so any replica may answer; the secret must be the first attempt's, as the table
   * demands of a retried acquire. Undefined when this replica knows nothing of it.
   */
  private acquireAlreadyApplied(request: AcquireLockRequest & { requestId: string; leaseSecret: string }): Promise<LockGrant> | undefined {
    const r = this.raft.replica.state.resources[request.resource];
    if (!r) return undefined;
    const secretHash = hashOfPresentedSecret(request.leaseSecret);
    const holder = r.holders.find((h) => h.requestId === request.requestId && h.owner === request.owner);
    if (holder) {
      if (holder.secretHash !== secretHash) return undefined;
      return Promise.resolve({ resource: request.resource, owner: holder.owner, mode: holder.mode, fencingToken: holder.fencingToken, expiresAtMs: holder.expiresAtMs, leaseSecret: request.leaseSecret });
    }
    const waiter = r.waiters.find((w) => w.requestId === request.requestId && w.owner === request.owner);
    if (!waiter || waiter.secretHash !== secretHash) return undefined;
    // Watch in the same turn as the look-up: nothing can apply in between.
    const watch = this.raft.replica.watch(request.requestId);
    return this.awaitOutcome(request, watch, Math.min(request.waitMs + WAIT_GRACE_MS, LOCAL_WATCH_MAX_MS));
  }

  private async awaitOutcome(
    request: AcquireLockRequest & { requestId: string; leaseSecret: string },
    watch: ReturnType<LockTableReplica['watch']>,
    timeoutMs: number,
  ): Promise<LockGrant> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        watch.outcome,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CairnError(ErrorCodes.Timeout, `no outcome for the queued acquire ${request.requestId} on ${this.raft.options.nodeId}; retry it`)), timeoutMs);
        }),
      ]);
      if (outcome.type === 'LockGranted') {
        return { resource: outcome.resource, owner: outcome.owner, mode: outcome.mode, fencingToken: outcome.fencingToken, expiresAtMs: outcome.expiresAtMs, leaseSecret: request.leaseSecret };
      }
      throw refusalError(outcome);
    } finally {
      clearTimeout(timer);
      watch.cancel();
    }
  }

  private async acquireHere(request: AcquireLockRequest & { requestId: string; leaseSecret: string }): Promise<LockGrant> {
    const secretHash = hashOfPresentedSecret(request.leaseSecret);
    const watch = this.raft.replica.watch(request.requestId);
    let timer: NodeJS.Timeout | undefined;
    try {
      const events = await this.raft.propose({
        type: 'AcquireLock',
        ...pick(request, ['requestId', 'resource', 'owner', 'mode', 'ttlMs', 'waitMs']),
        secretHash,
        nowMs: Date.now(),
      });
      const mine = events.find((e) => 'requestId' in e && e.requestId === request.requestId);
      if (!mine) throw new CairnError(ErrorCodes.Internal, `acquire ${request.requestId} applied without an outcome`);
      const outcome =
        mine.type === 'LockQueued'
          ? await Promise.race([
              watch.outcome,
              new Promise<never>((_, reject) => {
                timer = setTimeout(
                  () => reject(new CairnError(ErrorCodes.Timeout, `no outcome for the queued acquire ${request.requestId} on ${this.raft.options.nodeId}; retry it`)),
                  Math.min(request.waitMs + WAIT_GRACE_MS, LOCAL_WATCH_MAX_MS),
                );
              }),
            ])
          : mine;
      if (outcome.type === 'LockGranted') {
        return {
          resource: outcome.resource,
          owner: outcome.owner,
          mode: outcome.mode,
          fencingToken: outcome.fencingToken,
          expiresAtMs: outcome.expiresAtMs,
          leaseSecret: request.leaseSecret,
        };
      }
      throw refusalError(outcome);
    } finally {
      clearTimeout(timer);
      watch.cancel();
    }
  }

  private async onLeader<T>(op: LockPattern, payload: object, forwarded: boolean, forwardTimeoutMs: number, here: () => Promise<T>): Promise<T> {
    const leader = await this.raft.awaitLeader();
    if (leader === this.raft.options.nodeId) {
      try {
        return await here();
      } catch (error) {
        // Deposed between the check and the proposal: the new leader can still take it.
        if (forwarded || !(error instanceof CairnError) || error.code !== RaftErrorCodes.NotLeader) throw error;
        return this.forward(op, payload, await this.raft.awaitLeader(), forwardTimeoutMs);
      }
    }
    if (forwarded) throw this.raft.notLeader(`forwarded to it, but ${leader} leads`);
    return this.forward(op, payload, leader, forwardTimeoutMs);
  }

  /**
   * Sends to `leader`'s own subject, and gives up as soon as this replica stops naming it the
   * leader: a request in flight to a leader that died is then answered RAFT_NOT_LEADER at once
   * (the client re-sends it, same request id), not after its whole timeout.
   */
  private async forward<T>(op: LockPattern, payload: object, leader: string, timeoutMs: number): Promise<T> {
    if (leader === this.raft.options.nodeId) throw this.raft.notLeader('leadership is changing');
    const leaderGone = this.raft.leaderGone(leader);
    try {
      return await Promise.race([
        this.rpc.request<T>(LOCK_MANAGER_SERVICE, instancePattern(leader, op), payload, { timeoutMs }),
        leaderGone.gone.then(() => {
          throw this.raft.notLeader(`forwarded to ${leader}, which no longer leads`);
        }),
      ]);
    } finally {
      leaderGone.cancel();
    }
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, source[k]])) as Pick<T, K>;
}

function refusalError(event: LockEvent | undefined): CairnError {
  if (event?.type === 'LockRefused') return new CairnError(event.code, event.message, { resource: event.resource, owner: event.owner });
  return new CairnError(ErrorCodes.Internal, `the lock table gave no outcome (${event?.type ?? 'none'})`);
}
