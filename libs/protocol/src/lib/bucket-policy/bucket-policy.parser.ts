import {
  BUCKET_POLICY_MAX_BYTES,
  BUCKET_POLICY_MAX_STATEMENTS,
  BUCKET_POLICY_VERSIONS,
  type BucketPolicy,
  type BucketPolicyVersion,
  type ConditionOperatorBase,
  type PolicyCondition,
  type PolicyStatement,
  type PrincipalSet,
} from './bucket-policy.types';
import { parseCidr, wildcardMatch } from './policy-match';
import { S3_POLICY_ACTIONS, type S3ActionResourceKind } from './s3-policy-actions';

/** A policy document S3 would refuse; `message` is what S3 says in its MalformedPolicy error. */
export class BucketPolicyError extends Error {
  readonly code = 'MalformedPolicy';
  constructor(message: string) {
    super(message);
    this.name = 'BucketPolicyError';
  }
}

const OPERATOR_BASES: ReadonlySet<string> = new Set<ConditionOperatorBase>([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
]);

const STATEMENT_FIELDS: ReadonlySet<string> = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const POLICY_FIELDS: ReadonlySet<string> = new Set(['Version', 'Id', 'Statement']);
const CONDITION_KEY_PATTERN = /^[A-Za-z0-9-]{1,32}:[A-Za-z0-9_.\-/:]{1,128}$/;
const S3_ARN_PREFIX = 'arn:aws:s3:::';
const IAM_ARN_PATTERN = /^arn:aws:iam::([^:]+):(root|user\/.+)$/;
/** An account Cairn knows by name (owner names, see owner-name.ts) or a 12-digit AWS-style id. */
const ACCOUNT_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const CANONICAL_USER_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const SID_PATTERN = /^[A-Za-z0-9 _-]{0,128}$/;
const MAX_CONDITION_VALUES = 1000;

/**
 * Parses and validates a bucket policy document for `bucket` as S3 does on PutBucketPolicy: valid
 * JSON, a known Version, Statement as an object or an array, each statement with an Effect, one of
 * Principal/NotPrincipal, Action/NotAction and Resource/NotResource, known S3 actions (wildcards
 * must match at least one), resources naming this bucket or its objects, and well-formed
 * conditions. Throws BucketPolicyError with S3's message otherwise.
 */
export function parseBucketPolicy(text: string, bucket: string): BucketPolicy {
  if (utf8Length(text) > BUCKET_POLICY_MAX_BYTES) throw new BucketPolicyError(`Policies must be no larger than ${BUCKET_POLICY_MAX_BYTES} bytes`);
  let document: unknown;
  try {
    document = text.trimStart().startsWith('{') ? JSON.parse(text) : undefined;
  } catch {
    document = undefined;
  }
  if (!isObject(document)) throw new BucketPolicyError("Policies must be valid JSON and the first byte must be '{'");
  for (const field of Object.keys(document)) if (!POLICY_FIELDS.has(field)) throw new BucketPolicyError(`Unknown field ${field}`);
  const version = document['Version'] ?? '2008-10-17';
  if (typeof version !== 'string' || !(BUCKET_POLICY_VERSIONS as readonly string[]).includes(version)) {
    throw new BucketPolicyError('The policy must contain a valid version string');
  }
  const id = document['Id'];
  if (id !== undefined && typeof id !== 'string') throw new BucketPolicyError('Policy Id must be a string');
  const raw = document['Statement'];
  if (raw === undefined) throw new BucketPolicyError('Missing required field Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new BucketPolicyError('Could not parse the policy: Statement is empty!');
  if (list.length > BUCKET_POLICY_MAX_STATEMENTS) throw new BucketPolicyError(`A policy may hold at most ${BUCKET_POLICY_MAX_STATEMENTS} statements`);
  const statements = list.map((s) => parseStatement(s, bucket));
  const sids = statements.map((s) => s.sid).filter((sid): sid is string => sid !== undefined && sid !== '');
  if (new Set(sids).size !== sids.length) throw new BucketPolicyError('Statement IDs (SID) in a single policy must be unique.');
  return { version: version as BucketPolicyVersion, ...(id === undefined ? {} : { id }), statements };
}

/** The error text when `text` is not a valid policy for `bucket`, or null when it is. */
export function bucketPolicyProblem(text: string, bucket: string): string | null {
  try {
    parseBucketPolicy(text, bucket);
    return null;
  } catch (error) {
    if (error instanceof BucketPolicyError) return error.message;
    throw error;
  }
}

function parseStatement(raw: unknown, bucket: string): PolicyStatement {
  if (!isObject(raw)) throw new BucketPolicyError('Statement must be an object');
  for (const field of Object.keys(raw)) if (!STATEMENT_FIELDS.has(field)) throw new BucketPolicyError(`Unknown field ${field}`);
  const sid = raw['Sid'];
  if (sid !== undefined && (typeof sid !== 'string' || !SID_PATTERN.test(sid))) throw new BucketPolicyError('Statement IDs (SID) must be alpha-numeric.');
  const effect = raw['Effect'];
  if (effect === undefined) throw new BucketPolicyError('Missing required field Effect');
  if (effect !== 'Allow' && effect !== 'Deny') throw new BucketPolicyError(`Invalid effect: ${typeof effect === 'string' ? effect : JSON.stringify(effect)}`);

  const principal = exactlyOne(raw, 'Principal', 'NotPrincipal');
  const action = exactlyOne(raw, 'Action', 'NotAction');
  const resource = exactlyOne(raw, 'Resource', 'NotResource');

  const principals = parsePrincipal(principal.value);
  const actions = stringList(action.value, 'Action').map(validateAction);
  const resources = stringList(resource.value, 'Resource').map((r) => validateResource(r, bucket));
  if (action.field === 'Action' && resource.field === 'Resource') checkActionsApply(actions, resources, bucket);
  const conditions = parseConditions(raw['Condition']);

  return {
    ...(typeof sid === 'string' ? { sid } : {}),
    effect,
    ...(principal.field === 'Principal' ? { principal: principals } : { notPrincipal: principals }),
    ...(action.field === 'Action' ? { action: actions } : { notAction: actions }),
    ...(resource.field === 'Resource' ? { resource: resources } : { notResource: resources }),
    conditions,
  };
}

function exactlyOne<F extends string, N extends string>(raw: Record<string, unknown>, field: F, notField: N): { field: F | N; value: unknown } {
  const has = raw[field] !== undefined;
  const hasNot = raw[notField] !== undefined;
  if (has && hasNot) throw new BucketPolicyError(`Statement may hold ${field} or ${notField}, not both`);
  if (!has && !hasNot) throw new BucketPolicyError(`Missing required field ${field}`);
  return has ? { field, value: raw[field] } : { field: notField, value: raw[notField] };
}

function stringList(value: unknown, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((v): v is string => typeof v === 'string' && v !== '')) {
    throw new BucketPolicyError(`Policy has invalid ${what.toLowerCase()}`);
  }
  return list;
}

function parsePrincipal(value: unknown): PrincipalSet {
  if (value === '*') return { kind: 'everyone' };
  if (!isObject(value) || Object.keys(value).length === 0) throw new BucketPolicyError('Invalid principal in policy');
  const aws: string[] = [];
  const canonicalUser: string[] = [];
  const other: string[] = [];
  for (const [type, names] of Object.entries(value)) {
    const list = Array.isArray(names) ? names : [names];
    if (list.length === 0 || !list.every((n): n is string => typeof n === 'string' && n !== '')) throw new BucketPolicyError('Invalid principal in policy');
    switch (type) {
      case 'AWS':
        for (const name of list) {
          const arn = IAM_ARN_PATTERN.exec(name);
          if (name !== '*' && !ACCOUNT_PATTERN.test(arn ? arn[1] : name)) throw new BucketPolicyError('Invalid principal in policy');
          aws.push(name);
        }
        break;
      case 'CanonicalUser':
        if (!list.every((n) => CANONICAL_USER_PATTERN.test(n))) throw new BucketPolicyError('Invalid principal in policy');
        canonicalUser.push(...list);
        break;
      case 'Service':
      case 'Federated':
        other.push(...list);
        break;
      default:
        throw new BucketPolicyError('Invalid principal in policy');
    }
  }
  return { kind: 'listed', aws, canonicalUser, other };
}

function validateAction(action: string): string {
  if (action === '*') return action;
  const lower = action.toLowerCase();
  if (!lower.startsWith('s3:')) throw new BucketPolicyError('Policy has invalid action');
  if (lower.includes('*') || lower.includes('?')) {
    if (!matchingActions(action).length) throw new BucketPolicyError('Policy has invalid action');
  } else if (!S3_POLICY_ACTIONS.has(lower)) {
    throw new BucketPolicyError('Policy has invalid action');
  }
  return action;
}

function matchingActions(pattern: string): S3ActionResourceKind[] {
  if (pattern === '*') return ['bucket', 'object', 'account'];
  const kinds: S3ActionResourceKind[] = [];
  for (const [lower, { kind }] of S3_POLICY_ACTIONS) if (wildcardMatch(pattern, lower, true)) kinds.push(kind);
  return kinds;
}

/** `arn:aws:s3:::<bucket>` or `arn:aws:s3:::<bucket>/<key pattern>`, the bucket part matching this bucket. */
function validateResource(resource: string, bucket: string): string {
  if (resource === '*') return resource;
  if (!resource.startsWith(S3_ARN_PREFIX)) throw new BucketPolicyError('Policy has invalid resource');
  const path = resource.slice(S3_ARN_PREFIX.length);
  const slash = path.indexOf('/');
  const bucketPart = slash === -1 ? path : path.slice(0, slash);
  // A pattern ending in * before any slash (`arn:aws:s3:::bucket*`) may also reach objects.
  const reachesBucket = wildcardMatch(bucketPart, bucket) || (slash === -1 && bucketPart.endsWith('*') && wildcardMatch(bucketPart, `${bucket}/x`));
  if (!reachesBucket && !bucketPart.includes('${')) throw new BucketPolicyError('Policy has invalid resource');
  return resource;
}

/** S3 refuses a statement in which no action applies to any of its resources (s3:GetObject on the bucket ARN alone). */
function checkActionsApply(actions: readonly string[], resources: readonly string[], bucket: string): void {
  const reachesBucket = resources.some((r) => r === '*' || wildcardMatch(r, `${S3_ARN_PREFIX}${bucket}`));
  const reachesObjects = resources.some((r) => r === '*' || r.includes('/') || r.slice(S3_ARN_PREFIX.length).endsWith('*'));
  for (const action of actions) {
    const kinds = matchingActions(action);
    const applies = kinds.some((kind) => (kind === 'object' ? reachesObjects : kind === 'bucket' ? reachesBucket : true));
    if (!applies) throw new BucketPolicyError('Action does not apply to any resource(s) in statement');
  }
}

function parseConditions(value: unknown): PolicyCondition[] {
  if (value === undefined) return [];
  if (!isObject(value)) throw new BucketPolicyError('Condition must be an object');
  const out: PolicyCondition[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const parsed = parseOperator(operator);
    if (!isObject(block) || Object.keys(block).length === 0) throw new BucketPolicyError(`Invalid Condition type : ${operator}`);
    for (const [key, raw] of Object.entries(block)) {
      if (!CONDITION_KEY_PATTERN.test(key)) throw new BucketPolicyError('Policy has an invalid condition key');
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0 || list.length > MAX_CONDITION_VALUES) throw new BucketPolicyError(`Invalid Condition value for ${operator}: ${key}`);
      const values = list.map((v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        throw new BucketPolicyError(`Invalid Condition value for ${operator}: ${key}`);
      });
      for (const v of values) if (!validConditionValue(parsed.base, v)) throw new BucketPolicyError(`Invalid Condition value for ${operator}: ${key}: ${v}`);
      out.push({ operator, ...parsed, key, values });
    }
  }
  return out;
}

function parseOperator(operator: string): Pick<PolicyCondition, 'base' | 'ifExists' | 'qualifier'> {
  let rest = operator;
  let qualifier: PolicyCondition['qualifier'];
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${q}:`)) {
      qualifier = q;
      rest = rest.slice(q.length + 1);
    }
  }
  const ifExists = rest.endsWith('IfExists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (!OPERATOR_BASES.has(rest) || (ifExists && rest === 'Null')) throw new BucketPolicyError(`Invalid Condition type : ${operator}`);
  return { base: rest as ConditionOperatorBase, ifExists, ...(qualifier ? { qualifier } : {}) };
}

function validConditionValue(base: ConditionOperatorBase, value: string): boolean {
  if (base.startsWith('Numeric')) return parseConditionNumber(value) !== undefined;
  if (base.startsWith('Date')) return parseConditionDate(value) !== undefined;
  if (base === 'IpAddress' || base === 'NotIpAddress') return parseCidr(value) !== undefined;
  if (base === 'Bool' || base === 'Null') return value.toLowerCase() === 'true' || value.toLowerCase() === 'false';
  return true;
}

export function parseConditionNumber(text: string): number | undefined {
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text.trim())) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** ISO 8601 date-times or epoch seconds, as milliseconds. */
export function parseConditionDate(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,12}$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
