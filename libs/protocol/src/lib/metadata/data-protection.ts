/**
 * Encryption at rest and Object Lock (WORM): what a version, an upload and a bucket record about
 * them (docs/encryption.md, docs/object-lock.md). Pure data and rules; no keys, no clocks.
 */

/** S3's three kinds of server-side encryption. */
export const EncryptionSchemes = ['SSE-S3', 'SSE-KMS', 'SSE-C'] as const;
export type EncryptionScheme = (typeof EncryptionSchemes)[number];

/**
 * How a version's bytes are encrypted. Every encrypted version has its own random 256-bit data key;
 * its chunks are AES-256-CTR under that key (each chunk with its own IV, ChunkRef.iv). The data key
 * is kept only wrapped (AES-256-GCM) by a key-encryption key: the region master key (SSE-S3), a
 * named key of the local key service (SSE-KMS) or the customer's own key (SSE-C), which Cairn never
 * stores — only a salted HMAC of it, to tell a wrong key from a right one.
 */
export interface ObjectEncryption {
  readonly scheme: EncryptionScheme;
  /** base64 of iv(12) | tag(16) | ciphertext(32): the data key wrapped by the key-encryption key. */
  readonly wrappedKey: string;
  /** SSE-S3: the master key version (`"3"`); SSE-KMS: the KMS key id; SSE-C: `""`. */
  readonly keyId: string;
  /** SSE-C only: base64 salt and HMAC-SHA256(customer key, salt). */
  readonly customerKeySalt?: string;
  readonly customerKeyHmac?: string;
  /** SSE-KMS: the encryption context (x-amz-server-side-encryption-context), as given (base64 JSON). */
  readonly kmsContext?: string;
  /** x-amz-server-side-encryption-bucket-key-enabled, echoed back. */
  readonly bucketKeyEnabled?: boolean;
}

export function isObjectEncryption(value: unknown): value is ObjectEncryption {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (EncryptionSchemes as readonly unknown[]).includes(v['scheme']) && typeof v['wrappedKey'] === 'string' && typeof v['keyId'] === 'string';
}

/** A bucket's default encryption (PutBucketEncryption): what a write without SSE headers gets. */
export interface BucketEncryption {
  /** S3's SSEAlgorithm: AES256 (SSE-S3) or aws:kms (SSE-KMS). */
  readonly algorithm: 'AES256' | 'aws:kms';
  /** aws:kms only: the KMSMasterKeyID; absent means the region's default KMS key. */
  readonly kmsKeyId?: string;
  readonly bucketKeyEnabled?: boolean;
}

export const RetentionModes = ['GOVERNANCE', 'COMPLIANCE'] as const;
export type RetentionMode = (typeof RetentionModes)[number];

/** A version's retention: no removal before `retainUntil` (COMPLIANCE: by nobody; GOVERNANCE: except with bypass). */
export interface ObjectRetention {
  readonly mode: RetentionMode;
  /** ISO-8601 instant. */
  readonly retainUntil: string;
}

/** A bucket's Object Lock configuration (PutObjectLockConfiguration). */
export interface ObjectLockConfiguration {
  /** Always true once set: Object Lock can be turned on, never off. */
  readonly enabled: true;
  /** The default retention of new versions, if any. */
  readonly defaultRetention?: { readonly mode: RetentionMode; readonly days?: number; readonly years?: number };
}

/** What is locked on one version now. */
export interface VersionLock {
  readonly retention?: ObjectRetention | null;
  readonly legalHold?: boolean;
}

/** S3 allows a default retention of 1..36500 days (or 1..100 years). */
export const OBJECT_LOCK_LIMITS = { daysMax: 36_500, yearsMax: 100 } as const;

const DAY_MS = 86_400_000;

/** The retain-until date a default retention gives a version written at `writtenAtMs`. */
export function defaultRetainUntil(config: ObjectLockConfiguration | null | undefined, writtenAtMs: number): ObjectRetention | undefined {
  const rule = config?.defaultRetention;
  if (!rule) return undefined;
  const days = rule.days ?? (rule.years ?? 0) * 365;
  return { mode: rule.mode, retainUntil: new Date(writtenAtMs + days * DAY_MS).toISOString() };
}

/**
 * Why removing a version (or overwriting it) is refused now, or null when it may go. A legal hold
 * refuses always; a retention until a future instant refuses unless it is GOVERNANCE and the
 * caller bypasses it (x-amz-bypass-governance-retention with s3:BypassGovernanceRetention).
 */
export function lockRefusal(lock: VersionLock, nowIso: string, bypassGovernance: boolean): string | null {
  if (lock.legalHold === true) return 'the version is under a legal hold';
  const retention = lock.retention;
  if (retention && retention.retainUntil > nowIso) {
    if (retention.mode === 'COMPLIANCE') return `the version is retained in COMPLIANCE mode until ${retention.retainUntil}`;
    if (!bypassGovernance) return `the version is retained in GOVERNANCE mode until ${retention.retainUntil}`;
  }
  return null;
}

/**
 * Why a change of a version's retention is refused, or null. COMPLIANCE is never shortened nor
 * weakened before it ends; GOVERNANCE may be shortened, removed or weakened only with bypass.
 */
export function retentionChangeRefusal(current: ObjectRetention | null | undefined, next: ObjectRetention | null, nowIso: string, bypassGovernance: boolean): string | null {
  if (!current || current.retainUntil <= nowIso) return null;
  const extends_ = next !== null && next.retainUntil >= current.retainUntil;
  if (current.mode === 'COMPLIANCE') {
    if (next === null || next.mode !== 'COMPLIANCE' || !extends_) return `the version is retained in COMPLIANCE mode until ${current.retainUntil}: it can only be extended`;
    return null;
  }
  if (next !== null && extends_) return null;
  return bypassGovernance ? null : `the version is retained in GOVERNANCE mode until ${current.retainUntil}: shortening or removing it needs x-amz-bypass-governance-retention`;
}
