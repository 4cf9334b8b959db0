import { MetadataErrorCodes, OBJECT_LOCK_LIMITS, RetentionModes, type BucketEncryption, type ObjectLockConfiguration } from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';

const KMS_KEY_ID_PATTERN = /^[A-Za-z0-9:/_.-]{1,256}$/;

/** A bucket's default encryption as S3 accepts it (AES256, or aws:kms with an optional key id). */
export function validateBucketEncryption(encryption: BucketEncryption): BucketEncryption {
  if (typeof encryption !== 'object' || encryption === null) throw malformed();
  const { algorithm, kmsKeyId, bucketKeyEnabled } = encryption;
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms') throw malformed();
  if (kmsKeyId !== undefined) {
    if (algorithm !== 'aws:kms') {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'a KMSMasterKeyID is only allowed with the SSEAlgorithm aws:kms');
    }
    if (typeof kmsKeyId !== 'string' || !KMS_KEY_ID_PATTERN.test(kmsKeyId)) throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'the KMSMasterKeyID is not valid');
  }
  return { algorithm, ...(kmsKeyId === undefined ? {} : { kmsKeyId }), ...(bucketKeyEnabled === true ? { bucketKeyEnabled: true } : {}) };
}

/** S3's rules: enabled, and a default retention with a mode and exactly one of Days and Years, positive. */
export function validateObjectLockConfiguration(config: ObjectLockConfiguration): ObjectLockConfiguration {
  if (typeof config !== 'object' || config === null || config.enabled !== true) throw malformed();
  const rule = config.defaultRetention;
  if (rule === undefined) return { enabled: true };
  if (!(RetentionModes as readonly string[]).includes(rule.mode)) throw malformed();
  const hasDays = rule.days !== undefined;
  const hasYears = rule.years !== undefined;
  if (hasDays === hasYears) throw malformed();
  const value = hasDays ? rule.days : rule.years;
  const max = hasDays ? OBJECT_LOCK_LIMITS.daysMax : OBJECT_LOCK_LIMITS.yearsMax;
  if (!Number.isSafeInteger(value) || (value as number) <= 0 || (value as number) > max) {
    throw new MetadataError(MetadataErrorCodes.InvalidArgument, 'Default retention period must be a positive integer value.');
  }
  return { enabled: true, defaultRetention: hasDays ? { mode: rule.mode, days: rule.days } : { mode: rule.mode, years: rule.years } };
}

function malformed(): MetadataError {
  return new MetadataError(MetadataErrorCodes.MalformedXML, 'The XML you provided was not well-formed or did not validate against our published schema');
}

/** BucketCreated's settings without its objectLockEnabled flag (the state holds the configuration instead). */
export function withoutObjectLockFlag<T extends { readonly objectLockEnabled?: true }>(data: T): Omit<T, 'objectLockEnabled'> {
  const { objectLockEnabled: _flag, ...settings } = data;
  return settings;
}
