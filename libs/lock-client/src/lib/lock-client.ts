import { randomBytes, randomUUID } from 'node:crypto';
import { CairnError, ErrorCodes } from '@cairn/protocol';
import {
  LEASE_SECRET_BYTES,
  LOCK_MANAGER_SERVICE,
  LockPatterns,
  LockWireErrorCodes,
  RETRYABLE_LOCK_CODES,
  type AcquireLockRequest,
  type LockGrant,
  type LockInspection,
  type LockMode,
  type LockPattern,
  type LockRelease,
  type LockRenewal,
  type ReleaseLockRequest,
  type RenewLockRequest,
} from '@cairn/protocol';

/** What the client needs of the RPC layer; `RpcClient` from @cairn/messaging fits. */
export interface LockRpc {
  request<T>(service: string, pattern: string, payload: unknown, options?: { timeoutMs?: number }): Promise<T>;
}

/**
 * One attempt of an operation that does not wait for a lock. Short, because a request in flight
 * to a leader that is killed gets no answer at all: it is re-sent (same request id, so it cannot
 * take effect twice) to whichever replica answers, which forwards it to the new leader.
 */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 1_000;
/** How long renew/release/inspect keep retrying through a failover before giving up. */
export const DEFAULT_RETRY_BUDGET_MS = 10_000;
/**
 * The longest single attempt of a waiting acquire; it is then re-sent at once (same request id
 * and secret): a replica that has applied the queued request waits for its outcome on its own
 * table, or returns the grant made while the earlier attempt was lost.
 */
export const ACQUIRE_ATTEMPT_MAX_MS = 1_000;
export const RETRY_BACKOFF_FIRST_MS = 50;
export const RETRY_BACKOFF_MAX_MS = 500;
/** Between attempts that found no replica answering (no leader yet): an election takes about 0.5-1 s. */
export const LEADERLESS_RETRY_MS = 50;
/** Renew when a third of the lease has gone, so two renewals can fail before it runs out. */
export const RENEW_FRACTION_OF_TTL = 3;
/** A lease is given up locally this long (at most a tenth of its ttl) before the client's conservative estimate of its end. */
export const LEASE_SAFETY_MARGIN_MS = 100;
const SAFETY_MARGIN_FRACTION_OF_TTL = 10;
export const DEFAULT_SINGLETON_TTL_MS = 10_000;
export const SINGLETON_RETRY_DELAY_MS = 500;
const MIN_ATTEMPT_TIMEOUT_MS = 100;

export interface LockClientOptions {
  /** Who holds the locks this client takes; unique per process (e.g. the instance name). */
  readonly owner: string;
  readonly attemptTimeoutMs?: number;
  readonly retryBudgetMs?: number;
  readonly service?: string;
}

export interface AcquireOptions {
  readonly mode?: LockMode;
  readonly ttlMs: number;
  readonly waitMs?: number;
}

/** What renew and release need of a grant: which lease, and its secret. */
export type LeaseRef = Pick<LockGrant, 'resource' | 'fencingToken' | 'leaseSecret'>;

/** A lease kept alive by the client until released or lost. */
export interface HeldLock {
  readonly resource: string;
  readonly fencingToken: number;
  /** Aborted when the lease is lost or released; its reason says which. */
  readonly signal: AbortSignal;
  /** The latest grant or renewal (with the lease secret, which renew and release send). */
  current(): LockGrant;
  release(): Promise<void>;
}

export interface SingletonContext {
  readonly fencingToken: number;
  /** Aborted when the lock is lost or the singleton is stopped: `fn` must stop then. */
  readonly signal: AbortSignal;
}

export interface SingletonRun {
  /** True while this process holds the singleton lock and runs `fn`. */
  readonly active: boolean;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isRetryable(error: unknown): boolean {
  return error instanceof CairnError && RETRYABLE_LOCK_CODES.has(error.code);
}

/**
 * Locks from the lock-manager group, answered by its leader (only the leader takes lock RPCs;
 * a request finds no responder while none is elected): requests that hit a replica
 * that is down, leaderless or deposed are re-sent with the same request id until they succeed
 * or their budget runs out, so a failover costs latency, never a second grant.
 */
export class LockClient {
  private readonly attemptTimeoutMs: number;
  private readonly retryBudgetMs: number;
  private readonly service: string;

  constructor(
    private readonly rpc: LockRpc,
    private readonly options: LockClientOptions,
  ) {
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.retryBudgetMs = options.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
    this.service = options.service ?? LOCK_MANAGER_SERVICE;
  }

  get owner(): string {
    return this.options.owner;
  }

  /** The grant carries the lease's secret, drawn here and sent with every attempt; pass the grant to renew and release. */
  async acquire(resource: string, options: AcquireOptions): Promise<LockGrant> {
    const waitMs = options.waitMs ?? 0;
    const requestId = randomUUID();
    const leaseSecret = randomBytes(LEASE_SECRET_BYTES).toString('base64url');
    const deadlineMs = Date.now() + waitMs + this.retryBudgetMs;
    const waitUntilMs = Date.now() + waitMs;
    try {
      return await this.withRetries<LockGrant>(LockPatterns.Acquire, deadlineMs, (attempt) => {
        // A retry that finds no queued request from the first attempt waits only for what is left.
        const remainingWaitMs = attempt === 0 ? waitMs : Math.max(0, waitUntilMs - Date.now());
        const request: AcquireLockRequest = { resource, owner: this.owner, mode: options.mode ?? 'exclusive', ttlMs: options.ttlMs, waitMs: remainingWaitMs, requestId, leaseSecret };
        // While the wait lasts, an attempt that times out is a long poll running out: re-sent without backoff.
        return { payload: request, timeoutMs: Math.min(remainingWaitMs + this.attemptTimeoutMs, ACQUIRE_ATTEMPT_MAX_MS), resendAtOnceOnTimeout: remainingWaitMs > 0 };
      }).then((grant) => ({ ...grant, leaseSecret }));
    } catch (error) {
      // Only a retry sent after the wait ran out can meet a plain conflict: to the caller, the wait timed out.
      if (waitMs > 0 && error instanceof CairnError && error.code === LockWireErrorCodes.Conflict) {
        throw new CairnError(LockWireErrorCodes.WaitTimeout, `waited ${waitMs} ms for ${resource}: ${error.message}`);
      }
      throw error;
    }
  }

  renew(grant: LeaseRef, ttlMs: number, budgetMs = this.retryBudgetMs): Promise<LockRenewal> {
    const payload: RenewLockRequest = { resource: grant.resource, owner: this.owner, fencingToken: grant.fencingToken, leaseSecret: grant.leaseSecret, ttlMs };
    return this.withRetries(LockPatterns.Renew, Date.now() + budgetMs, () => ({ payload, timeoutMs: this.attemptTimeoutMs }));
  }

  async release(grant: LeaseRef): Promise<void> {
    const payload: ReleaseLockRequest = { resource: grant.resource, owner: this.owner, fencingToken: grant.fencingToken, leaseSecret: grant.leaseSecret };
    let attempts = 0;
    try {
      await this.withRetries<LockRelease>(LockPatterns.Release, Date.now() + this.retryBudgetMs, (attempt) => {
        attempts = attempt + 1;
        return { payload, timeoutMs: this.attemptTimeoutMs };
      });
    } catch (error) {
      // A retried release that finds nothing to release was applied by an attempt whose reply was lost.
      if (attempts > 1 && error instanceof CairnError && error.code === LockWireErrorCodes.NotHeld) return;
      throw error;
    }
  }

  inspect(resource: string): Promise<LockInspection> {
    return this.withRetries(LockPatterns.Inspect, Date.now() + this.retryBudgetMs, () => ({ payload: { resource }, timeoutMs: this.attemptTimeoutMs }));
  }

  /**
   * Acquires and keeps the lease alive (renewing at ttl/3) until `release()`. The signal aborts
   * with LOCK_LOST when a renewal is refused, or when renewals keep failing until the lease may
   * have ended: from then on another holder may exist, and the fencing token is all that protects.
   */
  async hold(resource: string, options: AcquireOptions): Promise<HeldLock> {
    const sentAtMs = Date.now();
    let grant = await this.acquire(resource, options);
    // Conservative: the lease started no earlier than the request was sent.
    let leaseEndLocalMs = sentAtMs + options.ttlMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let released = false;
    const lose = (message: string) => {
      if (controller.signal.aborted) return;
      if (timer) clearTimeout(timer);
      controller.abort(new CairnError(LockWireErrorCodes.Lost, `lock ${resource} (token ${grant.fencingToken}) lost: ${message}`));
    };
    const renewEveryMs = Math.max(1, Math.floor(options.ttlMs / RENEW_FRACTION_OF_TTL));
    const marginMs = Math.min(LEASE_SAFETY_MARGIN_MS, Math.floor(options.ttlMs / SAFETY_MARGIN_FRACTION_OF_TTL));
    const renewLoop = async () => {
      if (controller.signal.aborted) return;
      const renewSentMs = Date.now();
      const budgetMs = leaseEndLocalMs - marginMs - renewSentMs;
      if (budgetMs <= 0) return lose('the lease ran out before a renewal succeeded');
      try {
        const renewal = await this.renew(grant, options.ttlMs, budgetMs);
        if (controller.signal.aborted) return;
        grant = { ...grant, expiresAtMs: renewal.expiresAtMs };
        leaseEndLocalMs = renewSentMs + options.ttlMs;
      } catch (error) {
        if (error instanceof CairnError && error.code === LockWireErrorCodes.NotHeld) return lose('the lock-manager no longer knows this lease');
        if (error instanceof CairnError && error.code === LockWireErrorCodes.SecretMismatch) return lose('the lock-manager refused this lease’s secret');
        if (Date.now() >= leaseEndLocalMs - marginMs) return lose(`renewals failed until the lease ran out (${String(error)})`);
      }
      if (!controller.signal.aborted) timer = setTimeout(() => void renewLoop(), renewEveryMs);
    };
    timer = setTimeout(() => void renewLoop(), renewEveryMs);
    return {
      resource,
      fencingToken: grant.fencingToken,
      signal: controller.signal,
      current: () => grant,
      release: async () => {
        if (released) return;
        released = true;
        if (timer) clearTimeout(timer);
        if (controller.signal.aborted) {
          // Lost: the lease is most likely gone already; a release only shortens what may remain.
          await this.release(grant).catch(() => undefined);
          return;
        }
        controller.abort(new CairnError(LockWireErrorCodes.NotHeld, `lock ${resource} released`));
        await this.release(grant);
      },
    };
  }

  /**
   * Runs `fn` in at most one process of the whole region at a time: whoever holds the lock
   * `singleton/<name>` runs it; the others queue. When `fn` returns, throws, or the lock is lost
   * (its signal aborts), the lock is released and this process competes again until `stop()`.
   */
  runAsSingleton(name: string, fn: (context: SingletonContext) => Promise<void>, options: { ttlMs?: number; onError?: (error: unknown) => void } = {}): SingletonRun {
    const ttlMs = options.ttlMs ?? DEFAULT_SINGLETON_TTL_MS;
    const stopping = new AbortController();
    let held: HeldLock | undefined;
    let active = false;
    const loop = async () => {
      while (!stopping.signal.aborted) {
        try {
          held = await this.hold(`singleton/${name}`, { mode: 'exclusive', ttlMs, waitMs: ttlMs });
        } catch (error) {
          if (!(error instanceof CairnError) || (!isRetryable(error) && error.code !== LockWireErrorCodes.WaitTimeout && error.code !== LockWireErrorCodes.Conflict)) {
            options.onError?.(error);
          }
          await sleep(SINGLETON_RETRY_DELAY_MS);
          continue;
        }
        if (stopping.signal.aborted) break;
        const signal = AbortSignal.any([held.signal, stopping.signal]);
        active = true;
        try {
          await fn({ fencingToken: held.fencingToken, signal });
        } catch (error) {
          options.onError?.(error);
        } finally {
          active = false;
        }
        await held.release().catch((error) => options.onError?.(error));
        held = undefined;
        if (!stopping.signal.aborted) await sleep(SINGLETON_RETRY_DELAY_MS);
      }
      if (held) await held.release().catch((error) => options.onError?.(error));
    };
    const done = loop();
    return {
      get active() {
        return active;
      },
      stop: async () => {
        stopping.abort();
        await done;
      },
    };
  }

  private async withRetries<T>(
    pattern: LockPattern,
    deadlineMs: number,
    attemptFor: (attempt: number) => { payload: unknown; timeoutMs: number; resendAtOnceOnTimeout?: boolean },
  ): Promise<T> {
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      const { payload, timeoutMs, resendAtOnceOnTimeout } = attemptFor(attempt);
      const remainingMs = deadlineMs - Date.now();
      try {
        return await this.rpc.request<T>(this.service, pattern, payload, { timeoutMs: Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.min(timeoutMs, remainingMs)) });
      } catch (error) {
        const pollRanOut = resendAtOnceOnTimeout === true && error instanceof CairnError && error.code === ErrorCodes.Timeout;
        // Only the leader answers: no responder means an election is on, and the next leader answers as soon as it is elected.
        const leaderless = error instanceof CairnError && error.code === ErrorCodes.NoHandler;
        const backoffMs = pollRanOut ? 0 : leaderless ? LEADERLESS_RETRY_MS : Math.min(RETRY_BACKOFF_FIRST_MS * 2 ** failures++, RETRY_BACKOFF_MAX_MS);
        if (!isRetryable(error) || Date.now() + backoffMs >= deadlineMs) throw error;
        if (backoffMs > 0) await sleep(backoffMs);
      }
    }
  }
}
