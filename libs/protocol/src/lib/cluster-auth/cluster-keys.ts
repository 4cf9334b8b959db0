import { createHash, hkdfSync, randomBytes } from 'node:crypto';

/** Shortest cluster secret accepted: 32 characters of a random token carry well over 128 bits. */
export const CLUSTER_SECRET_MIN_LENGTH = 32;

/** What each derived key is for; a key never signs for another purpose. */
const KEY_PURPOSES = ['internal-http', 'internal-nats', 'operator-tokens', 'alert-webhooks'] as const;
export type ClusterKeyPurpose = (typeof KEY_PURPOSES)[number];

/**
 * The keys every service of one cluster derives from its one shared secret. Each purpose gets its
 * own key (HKDF-SHA256), so a signature made for a NATS message can never pass as an HTTP one.
 */
export class ClusterKeys {
  private readonly keys: ReadonlyMap<ClusterKeyPurpose, Buffer>;
  /** A short public fingerprint of the secret, to tell in logs whether two services share one. */
  readonly fingerprint: string;

  constructor(secret: string) {
    if (secret.length < CLUSTER_SECRET_MIN_LENGTH) throw new Error(`the cluster secret must be at least ${CLUSTER_SECRET_MIN_LENGTH} characters`);
    this.keys = new Map(KEY_PURPOSES.map((purpose) => [purpose, Buffer.from(hkdfSync('sha256', secret, 'cairn-cluster', `cairn ${purpose} v1`, 32))]));
    this.fingerprint = createHash('sha256').update(this.key('internal-http')).digest('hex').slice(0, 12);
  }

  key(purpose: ClusterKeyPurpose): Buffer {
    return this.keys.get(purpose) as Buffer;
  }
}

/** A fresh random cluster secret (development and first installs). */
export function generateClusterSecret(): string {
  return randomBytes(32).toString('base64url');
}
