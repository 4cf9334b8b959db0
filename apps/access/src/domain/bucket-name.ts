/** S3's rules for general-purpose bucket names. */
export const MIN_BUCKET_NAME_LENGTH = 3;
export const MAX_BUCKET_NAME_LENGTH = 63;

const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;
const IP_ADDRESS_PATTERN = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;

/** Why a bucket name is invalid, or undefined if it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < MIN_BUCKET_NAME_LENGTH || name.length > MAX_BUCKET_NAME_LENGTH) {
    return `must be between ${MIN_BUCKET_NAME_LENGTH} and ${MAX_BUCKET_NAME_LENGTH} characters long`;
  }
  if (!BUCKET_NAME_PATTERN.test(name)) return 'may hold only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent periods';
  if (name.includes('.-') || name.includes('-.')) return 'must not contain a period next to a hyphen';
  if (IP_ADDRESS_PATTERN.test(name)) return 'must not be formatted as an IP address';
  if (RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) return 'must not start with a reserved prefix';
  if (RESERVED_SUFFIXES.some((suffix) => name.endsWith(suffix))) return 'must not end with a reserved suffix';
  return undefined;
}

export function isValidBucketName(name: string): boolean {
  return bucketNameProblem(name) === undefined;
}
