import { ROOT_ACCESS_KEY_OWNER } from './metadata.views';

export const OWNER_NAME_MIN_CHARS = 1;
export const OWNER_NAME_MAX_CHARS = 64;
/** Lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit. */
const OWNER_NAME_CHARS_PATTERN = /^[a-z0-9._-]*$/;
const OWNER_NAME_EDGE_PATTERN = /^[a-z0-9](?:.*[a-z0-9])?$/s;
/** What a look-alike comparison ignores: separators, white space and any control or format character. */
const LOOK_ALIKE_IGNORED_PATTERN = /[._\-\s\p{C}]/gu;

/**
 * The skeleton two owner names are compared by for look-alikes: case folded, white space,
 * control characters and separators dropped, and the digit 0 read as the letter o.
 */
function lookAlikeSkeleton(name: string): string {
  return name.toLowerCase().replace(LOOK_ALIKE_IGNORED_PATTERN, '').replace(/0/g, 'o');
}

/**
 * Why a name is not an owner name in its one canonical form, or null when it is. An owner names
 * who an access key acts as and so whose buckets it reaches; two spellings of one owner (`Root`,
 * ` root`, `root\0`) must never exist, and nothing may pass for the bootstrapped root owner
 * (`r00t`, `r.o.o.t`). The name `root` itself passes: that only the bootstrap may create a key for
 * it is the caller's rule. One rule for every service, as for bucket names.
 */
export function ownerNameProblem(name: string): string | null {
  if (name !== ROOT_ACCESS_KEY_OWNER && lookAlikeSkeleton(name) === ROOT_ACCESS_KEY_OWNER) {
    return `is a look-alike of the reserved owner "${ROOT_ACCESS_KEY_OWNER}"`;
  }
  if (name.length < OWNER_NAME_MIN_CHARS || name.length > OWNER_NAME_MAX_CHARS) {
    return `must be ${OWNER_NAME_MIN_CHARS} to ${OWNER_NAME_MAX_CHARS} characters long`;
  }
  if (!OWNER_NAME_CHARS_PATTERN.test(name)) return 'may hold only lowercase letters, digits, dots, underscores and hyphens';
  if (!OWNER_NAME_EDGE_PATTERN.test(name)) return 'must start and end with a lowercase letter or digit';
  return null;
}

export function isValidOwnerName(name: string): boolean {
  return ownerNameProblem(name) === null;
}
