import { MetadataLimits } from './common';

const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;
const IPV4_PATTERN = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** Reserved by S3 (general purpose bucket naming rules). */
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;
/** Each dot-separated label must start and end with a letter or digit, so it stays a DNS label. */
const BAD_LABEL_JOINS = ['..', '.-', '-.'] as const;

/**
 * Why a name breaks S3's rules for general-purpose bucket names, or null when it is valid. One
 * rule for the gateway (which answers InvalidBucketName before asking metadata) and for metadata
 * (which refuses the command), so the two can never disagree on a name.
 */
export function bucketNameProblem(name: string): string | null {
  if (name.length < MetadataLimits.bucketNameMinChars || name.length > MetadataLimits.bucketNameMaxChars) {
    return `must be ${MetadataLimits.bucketNameMinChars} to ${MetadataLimits.bucketNameMaxChars} characters long`;
  }
  if (!BUCKET_NAME_PATTERN.test(name)) {
    return 'may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit';
  }
  for (const join of BAD_LABEL_JOINS) if (name.includes(join)) return `may not contain "${join}"`;
  if (IPV4_PATTERN.test(name)) return 'may not be formatted as an IP address';
  for (const prefix of RESERVED_PREFIXES) if (name.startsWith(prefix)) return `may not start with "${prefix}"`;
  for (const suffix of RESERVED_SUFFIXES) if (name.endsWith(suffix)) return `may not end with "${suffix}"`;
  return null;
}

export function isValidBucketName(name: string): boolean {
  return bucketNameProblem(name) === null;
}
