import { CairnError, MetadataErrorCodes, type GetAccessKeyReply } from '@cairn/protocol';
import { openAccessKeySecret, type KeyService } from '@cairn/service-kit';
import type { AccessKeyLookup, AccessKeyRecord } from '../s3';
import { ExpiringCache } from './expiring-cache';

/** An unknown key is remembered this long, so floods of bad keys do not reach metadata. */
export const ACCESS_KEY_NEGATIVE_CACHE_TTL_MS = 2_000;
export const ACCESS_KEY_CACHE_MAX_ENTRIES = 10_000;

/**
 * AccessKeyLookup over metadata's `accesskey.get`, cached briefly (positive and negative); a key
 * whose events say it changed (created, revoked) is dropped from the cache at once.
 */
export class AccessKeyRpcLookup implements AccessKeyLookup {
  private readonly cache: ExpiringCache<AccessKeyRecord | undefined>;

  /**
   * A found key is trusted for `ttlMs` when no change to it is heard of: the backstop for a missed
   * revocation. `masterKeys`: the region's keyring, which opens sealed secrets (in memory only).
   */
  constructor(
    getAccessKey: (accessKeyId: string, minSequence: number) => Promise<GetAccessKeyReply>,
    ttlMs: number,
    nowMs: () => number = Date.now,
    masterKeys?: KeyService,
  ) {
    this.cache = new ExpiringCache({
      load: async (accessKeyId, minSequence) => {
        try {
          const view = await getAccessKey(accessKeyId, minSequence);
          if (view.revokedAt !== null) return undefined;
          if (view.secret === undefined) throw new Error(`metadata answered access key ${view.accessKeyId} without its secret`);
          return { accessKeyId: view.accessKeyId, secretAccessKey: openAccessKeySecret(masterKeys, view.accessKeyId, view.secret), owner: view.owner, isRoot: view.isRoot };
        } catch (error) {
          // Only "no such key" is an answer; a timeout or an absent metadata service must not be cached as one.
          if (error instanceof CairnError && error.code === MetadataErrorCodes.InvalidAccessKeyId) return undefined;
          throw error;
        }
      },
      ttlMs: (record) => (record ? ttlMs : Math.min(ttlMs, ACCESS_KEY_NEGATIVE_CACHE_TTL_MS)),
      maxEntries: ACCESS_KEY_CACHE_MAX_ENTRIES,
      nowMs,
    });
  }

  find(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.cache.get(accessKeyId);
  }

  /** The key changed (revoked, created) at this META sequence: the next request with it asks metadata again. */
  changed(accessKeyId: string, sequence: number): void {
    this.cache.invalidate(accessKeyId, sequence);
  }
}
