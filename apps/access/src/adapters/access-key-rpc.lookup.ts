import { CairnError, MetadataErrorCodes, type GetAccessKeyReply } from '@cairn/protocol';
import type { AccessKeyLookup, AccessKeyRecord } from '../s3';

/** A found key is trusted this long: a revoked key stops working within it. */
export const ACCESS_KEY_CACHE_TTL_MS = 5_000;
/** An unknown key is remembered this long, so floods of bad keys do not reach metadata. */
export const ACCESS_KEY_NEGATIVE_CACHE_TTL_MS = 2_000;
export const ACCESS_KEY_CACHE_MAX_ENTRIES = 10_000;

interface Entry {
  readonly record: AccessKeyRecord | undefined;
  readonly expiresAtMs: number;
}

/** AccessKeyLookup over metadata's `accesskey.get`, cached briefly (positive and negative). */
export class AccessKeyRpcLookup implements AccessKeyLookup {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<AccessKeyRecord | undefined>>();

  constructor(
    private readonly getAccessKey: (accessKeyId: string) => Promise<GetAccessKeyReply>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async find(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const now = this.nowMs();
    const cached = this.cache.get(accessKeyId);
    if (cached && cached.expiresAtMs > now) return cached.record;
    const pending = this.inFlight.get(accessKeyId);
    if (pending) return pending;
    const lookup = this.fetch(accessKeyId).finally(() => this.inFlight.delete(accessKeyId));
    this.inFlight.set(accessKeyId, lookup);
    return lookup;
  }

  private async fetch(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    let record: AccessKeyRecord | undefined;
    try {
      const view = await this.getAccessKey(accessKeyId);
      record = view.revokedAt === null ? { accessKeyId: view.accessKeyId, secretAccessKey: view.secretAccessKey, owner: view.owner, isRoot: view.isRoot } : undefined;
    } catch (error) {
      // Only "no such key" is an answer; a timeout or an absent metadata service must not be cached as one.
      if (!(error instanceof CairnError && error.code === MetadataErrorCodes.InvalidAccessKeyId)) throw error;
      record = undefined;
    }
    if (this.cache.size >= ACCESS_KEY_CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(accessKeyId, { record, expiresAtMs: this.nowMs() + (record ? ACCESS_KEY_CACHE_TTL_MS : ACCESS_KEY_NEGATIVE_CACHE_TTL_MS) });
    return record;
  }
}
