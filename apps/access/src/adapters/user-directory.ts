import { CairnError, canonicalIdOf, MetadataErrorCodes, type UserView } from '@cairn/protocol';
import type { MetadataRpcClient } from './metadata-rpc.client';

/** Users the gateway has looked up, at most this many (users never change once created). */
export const USER_DIRECTORY_MAX_ENTRIES = 10_000;
/** How long "no such user" is believed: a user created meanwhile is seen after it. */
export const USER_DIRECTORY_MISS_TTL_MS = 5_000;

/**
 * Who a canonical id or an email names, for ACL grants and S3's Owner/Grantee display names.
 * Found users are kept (a user never changes once created); misses for a few seconds.
 */
export class UserDirectory {
  private readonly found = new Map<string, UserView>();
  private readonly missed = new Map<string, number>();

  constructor(
    private readonly metadata: Pick<MetadataRpcClient, 'getUser'>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  byCanonicalId(canonicalId: string): Promise<UserView | undefined> {
    return this.lookup(`id:${canonicalId}`, { canonicalId });
  }

  byEmail(email: string): Promise<UserView | undefined> {
    return this.lookup(`email:${email.toLowerCase()}`, { email: email.toLowerCase() });
  }

  /** The name shown for a canonical id: its user's display name, else the id itself. */
  async displayNameOf(canonicalId: string): Promise<string> {
    return (await this.byCanonicalId(canonicalId))?.displayName ?? canonicalId;
  }

  /** A user by name; one never created as such (a key owner from before users) reads as its name. */
  async byName(user: string): Promise<UserView> {
    return (await this.lookup(`name:${user}`, { user })) ?? { user, canonicalId: canonicalIdOf(user), displayName: user, email: null, createdAt: null };
  }

  private async lookup(cacheKey: string, request: { user?: string; canonicalId?: string; email?: string }): Promise<UserView | undefined> {
    const hit = this.found.get(cacheKey);
    if (hit) return hit;
    const missedAt = this.missed.get(cacheKey);
    if (missedAt !== undefined && this.nowMs() - missedAt < USER_DIRECTORY_MISS_TTL_MS) return undefined;
    try {
      const user = await this.metadata.getUser(request);
      if (this.found.size >= USER_DIRECTORY_MAX_ENTRIES) this.found.clear();
      this.found.set(cacheKey, user);
      this.missed.delete(cacheKey);
      return user;
    } catch (error) {
      if (error instanceof CairnError && error.code === MetadataErrorCodes.NoSuchUser) {
        if (this.missed.size >= USER_DIRECTORY_MAX_ENTRIES) this.missed.clear();
        this.missed.set(cacheKey, this.nowMs());
        return undefined;
      }
      throw error;
    }
  }
}
