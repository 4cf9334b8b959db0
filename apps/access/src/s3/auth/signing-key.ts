import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_SIGNING_KEY_CACHE_ENTRIES, SIGV4_TERMINATOR } from './sigv4.constants';

export function hmacSha256(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const dateKey = hmacSha256(`AWS4${secretAccessKey}`, date);
  const regionKey = hmacSha256(dateKey, region);
  const serviceKey = hmacSha256(regionKey, service);
  return hmacSha256(serviceKey, SIGV4_TERMINATOR);
}

interface CacheEntry {
  readonly secretAccessKey: string;
  readonly signingKey: Buffer;
}

/**
 * Caches derived signing keys: four HMACs per request add up on small-object workloads, and a key
 * only changes with the date. An entry is reused only for the same secret, so a rotated secret is
 * never answered with a stale key. Bounded, oldest entry evicted first.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly maxEntries: number = MAX_SIGNING_KEY_CACHE_ENTRIES) {}

  get(accessKeyId: string, secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const cacheKey = `${date}/${region}/${service}/${accessKeyId}`;
    const hit = this.entries.get(cacheKey);
    if (hit && sameSecret(hit.secretAccessKey, secretAccessKey)) return hit.signingKey;
    const signingKey = deriveSigningKey(secretAccessKey, date, region, service);
    this.entries.delete(cacheKey);
    this.entries.set(cacheKey, { secretAccessKey, signingKey });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return signingKey;
  }

  get size(): number {
    return this.entries.size;
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Compares two hex signatures in constant time (for equal lengths; the length is not secret). */
export function signaturesEqual(expectedHex: string, providedHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'utf8');
  const provided = Buffer.from(providedHex, 'utf8');
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}
