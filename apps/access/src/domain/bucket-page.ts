/**
 * ListBuckets pagination (max-buckets, continuation-token, prefix), over a listing sorted by name.
 * The token is the last name of the page before, base64url: opaque to clients, stable across
 * buckets created or deleted meanwhile. Pure.
 */

export const MAX_BUCKETS_PER_PAGE = 10_000;

export interface BucketPageRequest {
  readonly prefix?: string;
  /** 1..10000; absent: every bucket, no token (S3's unpaginated answer). */
  readonly maxBuckets?: number;
  readonly continuationToken?: string;
}

export interface BucketPage<T> {
  readonly buckets: readonly T[];
  /** For the next page; absent on the last one. */
  readonly continuationToken?: string;
}

export function encodeBucketToken(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

/** Undefined when the token is not one this gateway wrote (the caller answers InvalidArgument). */
export function decodeBucketToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(token)) return undefined;
  const name = Buffer.from(token, 'base64url').toString('utf8');
  return encodeBucketToken(name) === token ? name : undefined;
}

export function pageBuckets<T extends { readonly name: string }>(sorted: readonly T[], request: BucketPageRequest, after: string | undefined): BucketPage<T> {
  const prefix = request.prefix ?? '';
  const matching = sorted.filter((b) => b.name.startsWith(prefix) && (after === undefined || b.name > after));
  if (request.maxBuckets === undefined || matching.length <= request.maxBuckets) return { buckets: matching };
  const buckets = matching.slice(0, request.maxBuckets);
  return { buckets, continuationToken: encodeBucketToken(buckets[buckets.length - 1].name) };
}
