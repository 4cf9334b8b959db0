import { S3Error } from '../../s3/errors/s3.errors';

/**
 * The policy document of a browser-based upload (POST Object): a base64 JSON object with an
 * `expiration` and `conditions` every form field must satisfy. Pure: the clock is an argument.
 */
export interface PostPolicy {
  readonly expirationMs: number;
  readonly conditions: readonly PostCondition[];
}

export type PostCondition =
  | { readonly kind: 'eq'; readonly field: string; readonly value: string; readonly text: string }
  | { readonly kind: 'starts-with'; readonly field: string; readonly prefix: string; readonly text: string }
  | { readonly kind: 'content-length-range'; readonly minBytes: number; readonly maxBytes: number; readonly text: string };

/** A policy document larger than this (decoded) is refused; S3's forms are a few KB. */
export const MAX_POST_POLICY_BYTES = 20 * 1024;
/** At most this many conditions in one policy. */
export const MAX_POST_POLICY_CONDITIONS = 256;

/** Form fields no condition has to cover (S3: the signature, the file, the policy itself, x-ignore-*). */
const UNCOVERED_FIELDS: ReadonlySet<string> = new Set(['x-amz-signature', 'file', 'policy']);
const IGNORED_FIELD_PREFIX = 'x-ignore-';
const BASE64_PATTERN = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;
const ISO_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function malformed(message: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

function invalidAccordingToPolicy(message: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${message}`);
}

/** `$Content-Type` → `content-type`; field names compare case-insensitively. */
function fieldName(reference: unknown): string | undefined {
  if (typeof reference !== 'string' || !reference.startsWith('$') || reference.length < 2) return undefined;
  return reference.slice(1).toLowerCase();
}

function lengthBound(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

function parseCondition(raw: unknown): PostCondition {
  const text = JSON.stringify(raw);
  if (Array.isArray(raw)) {
    const [operator, first, second] = raw as unknown[];
    if (raw.length !== 3 || typeof operator !== 'string') throw malformed(`Invalid Condition: ${text}`);
    const op = operator.toLowerCase();
    if (op === 'content-length-range') {
      const minBytes = lengthBound(first);
      const maxBytes = lengthBound(second);
      if (minBytes === undefined || maxBytes === undefined || minBytes > maxBytes) throw malformed(`Invalid content-length-range: ${text}`);
      return { kind: 'content-length-range', minBytes, maxBytes, text };
    }
    const field = fieldName(first);
    if (field === undefined || typeof second !== 'string') throw malformed(`Invalid Condition: ${text}`);
    if (op === 'eq') return { kind: 'eq', field, value: second, text };
    if (op === 'starts-with') return { kind: 'starts-with', field, prefix: second, text };
    throw malformed(`Invalid Condition operator: ${operator}`);
  }
  if (raw !== null && typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    const [name, value] = entries[0] ?? [];
    if (entries.length !== 1 || typeof name !== 'string' || typeof value !== 'string') throw malformed(`Invalid Condition: ${text}`);
    return { kind: 'eq', field: name.toLowerCase(), value, text: `["eq", "$${name}", ${JSON.stringify(value)}]` };
  }
  throw malformed(`Invalid Condition: ${text}`);
}

/** Decodes and parses the `policy` form field; anything but the documented shape is InvalidPolicyDocument. */
export function parsePostPolicy(base64: string): PostPolicy {
  if (!BASE64_PATTERN.test(base64) || base64.length > Math.ceil((MAX_POST_POLICY_BYTES * 4) / 3) + 4) throw malformed('Policy could not be decoded.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw malformed('Policy is not valid JSON.');
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw malformed('Policy must be a JSON object.');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string' || !ISO_DATE_PATTERN.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    throw malformed('Policy is missing a valid expiration.');
  }
  if (!Array.isArray(conditions)) throw malformed('Policy is missing conditions.');
  if (conditions.length > MAX_POST_POLICY_CONDITIONS) throw malformed(`Policy has more than ${MAX_POST_POLICY_CONDITIONS} conditions.`);
  return { expirationMs: Date.parse(expiration), conditions: conditions.map(parseCondition) };
}

/**
 * Checks the form's fields (names lower-case, `bucket` included) against the policy: not expired,
 * every condition met, every field but the exempt ones named by some condition. The file's length
 * is checked as it streams (`contentLengthRange`).
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, nowMs: number): void {
  if (nowMs > policy.expirationMs) throw invalidAccordingToPolicy('Policy expired.');
  const covered = new Set<string>();
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') continue;
    covered.add(condition.field);
    const value = fields.get(condition.field) ?? '';
    const holds = condition.kind === 'eq' ? value === condition.value : value.startsWith(condition.prefix);
    if (!holds) throw invalidAccordingToPolicy(`Policy Condition failed: ${condition.text}`);
  }
  const extra = [...fields.keys()].filter((name) => !covered.has(name) && !UNCOVERED_FIELDS.has(name) && !name.startsWith(IGNORED_FIELD_PREFIX) && name !== 'bucket');
  if (extra.length > 0) throw invalidAccordingToPolicy(`Extra input fields: ${extra.join(', ')}`);
}

/** The policy's content-length-range (the last one wins, as only one is meaningful), if any. */
export function contentLengthRange(policy: PostPolicy): { readonly minBytes: number; readonly maxBytes: number } | undefined {
  const ranges = policy.conditions.filter((condition) => condition.kind === 'content-length-range');
  const last = ranges[ranges.length - 1];
  return last ? { minBytes: last.minBytes, maxBytes: last.maxBytes } : undefined;
}
