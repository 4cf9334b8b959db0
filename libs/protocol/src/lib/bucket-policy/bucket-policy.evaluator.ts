import type { BucketPolicy, PolicyCondition, PolicyStatement, PrincipalSet } from './bucket-policy.types';
import { parseConditionDate, parseConditionNumber } from './bucket-policy.parser';
import { cidrContains, parseCidr, parseIpAddress, wildcardMatch } from './policy-match';
import { aclAllows, aclRequirementOf } from '../acl/acl';
import type { AccessControlList, ObjectOwnership, PublicAccessBlock } from '../acl/acl.types';
import { isBucketPolicyPublic } from './bucket-policy.public';

/** Who is asking: nobody (an unsigned request) or a Cairn account (the owner name its key acts for). */
export type PolicyPrincipal = { readonly kind: 'anonymous' } | { readonly kind: 'account'; readonly account: string; readonly canonicalId: string };

/** A context key's value: one string, or several for multivalued keys (ForAnyValue / ForAllValues). */
export type PolicyContextValue = string | readonly string[];

export interface PolicyRequest {
  readonly principal: PolicyPrincipal;
  /** `s3:GetObject`, … */
  readonly action: string;
  /** `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`. */
  readonly resource: string;
  /** Condition keys (any case: keys are case-insensitive) and their values; absent keys are missing. */
  readonly context: Readonly<Record<string, PolicyContextValue | undefined>>;
}

/** What one policy says of a request: an explicit Deny, an explicit Allow, or nothing (implicit deny). */
export type PolicyVerdict = { readonly effect: 'Deny' | 'Allow'; readonly sid?: string } | { readonly effect: 'None' };

type Context = ReadonlyMap<string, readonly string[]>;

/**
 * Evaluates a bucket policy as IAM does: every statement whose principal, action, resource and
 * conditions all match applies; any applying Deny wins, else any applying Allow, else nothing.
 */
export function evaluateBucketPolicy(policy: BucketPolicy, request: PolicyRequest): PolicyVerdict {
  const context = normalizeContext(request.context);
  const variables = policy.version === '2012-10-17';
  let allow: PolicyVerdict | undefined;
  for (const statement of policy.statements) {
    if (!statementApplies(statement, request, context, variables)) continue;
    if (statement.effect === 'Deny') return { effect: 'Deny', ...(statement.sid ? { sid: statement.sid } : {}) };
    allow ??= { effect: 'Allow', ...(statement.sid ? { sid: statement.sid } : {}) };
  }
  return allow ?? { effect: 'None' };
}

export interface AccessDecisionInput {
  readonly policy?: BucketPolicy;
  readonly request: PolicyRequest;
  /** Cairn's root key: the administrator, allowed everything whatever a policy says. */
  readonly callerIsRoot: boolean;
  /** The caller's account owns the bucket. */
  readonly callerOwnsBucket: boolean;
  /** The caller's canonical user id; absent for an anonymous request. */
  readonly callerCanonicalId?: string;
  /**
   * The bucket's Object Ownership; BucketOwnerEnforced disables ACLs (they grant nothing and the
   * bucket owner owns every object). Absent: a bucket from before ownership controls, ACLs on.
   */
  readonly objectOwnership?: ObjectOwnership;
  /** The bucket's ACL (its ownerId is the bucket owner's canonical id). */
  readonly bucketAcl?: AccessControlList;
  /** For an action on an existing object: its ACL, whose ownerId is the object's owner. */
  readonly objectAcl?: AccessControlList;
  readonly publicAccessBlock?: PublicAccessBlock;
}

export interface AccessDecision {
  readonly allowed: boolean;
  readonly reason: 'root' | 'explicit-deny' | 'owner' | 'policy-allow' | 'acl-allow' | 'owner-policy-management' | 'implicit-deny';
  readonly sid?: string;
}

/** The actions the bucket owner keeps whatever its policy denies, so it can never lock itself out (as S3 keeps them for the owner's root user). */
const OWNER_POLICY_MANAGEMENT: ReadonlySet<string> = new Set(['s3:getbucketpolicy', 's3:putbucketpolicy', 's3:deletebucketpolicy']);

/**
 * The one access decision of every request on a bucket: ownership, the bucket policy and the ACLs
 * together.
 * 1. Cairn's root key is allowed (it is the operator, not an AWS account).
 * 2. An explicit Deny in the bucket policy refuses, the owner included — except the owner's
 *    Get/Put/DeleteBucketPolicy, which a policy cannot take away.
 * 3. The bucket owner is allowed — except reading another writer's object (or its ACL) in a
 *    bucket whose ACLs are on, which needs that object's ACL or the policy, as in S3.
 * 4. Anyone else, anonymous included, is allowed by an explicit Allow of the policy (not a public
 *    policy's when PublicAccessBlock restricts public buckets), or by the ACL that S3 consults
 *    for the action (the bucket's for listing and writing, the object's for reading; group grants
 *    to AllUsers/AuthenticatedUsers dropped when PublicAccessBlock ignores public ACLs).
 */
export function decideAccess(input: AccessDecisionInput): AccessDecision {
  if (input.callerIsRoot) return { allowed: true, reason: 'root' };
  const verdict: PolicyVerdict = input.policy ? evaluateBucketPolicy(input.policy, input.request) : { effect: 'None' };
  if (verdict.effect === 'Deny') {
    if (input.callerOwnsBucket && OWNER_POLICY_MANAGEMENT.has(input.request.action.toLowerCase())) return { allowed: true, reason: 'owner-policy-management' };
    return { allowed: false, reason: 'explicit-deny', ...(verdict.sid ? { sid: verdict.sid } : {}) };
  }
  const aclsOn = input.objectOwnership !== 'BucketOwnerEnforced';
  const requirement = aclRequirementOf(input.request.action);
  const objectAcl = aclsOn && requirement?.on === 'object' ? input.objectAcl : undefined;
  if (input.callerOwnsBucket) {
    const anotherWritersObject = objectAcl !== undefined && objectAcl.ownerId !== input.callerCanonicalId;
    if (!anotherWritersObject) return { allowed: true, reason: 'owner' };
  }
  const pab = input.publicAccessBlock;
  if (verdict.effect === 'Allow') {
    const restricted = pab?.restrictPublicBuckets === true && input.policy !== undefined && isBucketPolicyPublic(input.policy);
    if (!restricted) return { allowed: true, reason: 'policy-allow', ...(verdict.sid ? { sid: verdict.sid } : {}) };
  }
  if (aclsOn && requirement !== undefined) {
    const acl = requirement.on === 'bucket' ? input.bucketAcl : objectAcl;
    const caller = input.callerCanonicalId === undefined ? {} : { canonicalId: input.callerCanonicalId };
    if (acl !== undefined && aclAllows(acl, caller, requirement.permission, pab?.ignorePublicAcls === true)) return { allowed: true, reason: 'acl-allow' };
  }
  return { allowed: false, reason: 'implicit-deny' };
}

function normalizeContext(context: PolicyRequest['context']): Context {
  const out = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined) continue;
    out.set(key.toLowerCase(), typeof value === 'string' ? [value] : value);
  }
  return out;
}

function statementApplies(statement: PolicyStatement, request: PolicyRequest, context: Context, variables: boolean): boolean {
  if (statement.principal && !principalMatches(statement.principal, request.principal)) return false;
  if (statement.notPrincipal && principalMatches(statement.notPrincipal, request.principal)) return false;
  if (statement.action && !statement.action.some((a) => wildcardMatch(a, request.action, true))) return false;
  if (statement.notAction && statement.notAction.some((a) => wildcardMatch(a, request.action, true))) return false;
  const resourceMatches = (pattern: string) => {
    const resolved = variables ? substituteVariables(pattern, context) : pattern;
    return resolved !== undefined && wildcardMatch(resolved, request.resource);
  };
  if (statement.resource && !statement.resource.some(resourceMatches)) return false;
  if (statement.notResource && statement.notResource.some(resourceMatches)) return false;
  return statement.conditions.every((condition) => conditionHolds(condition, context, variables));
}

/** `*` and `{"AWS": "*"}` name everyone, anonymous included; anything else names accounts. */
export function principalMatches(set: PrincipalSet, principal: PolicyPrincipal): boolean {
  if (set.kind === 'everyone') return true;
  if (set.aws.includes('*')) return true;
  if (principal.kind === 'anonymous') return false;
  const account = principal.account;
  const named = set.aws.some(
    (name) => name === account || name === `arn:aws:iam::${account}:root` || name.startsWith(`arn:aws:iam::${account}:user/`),
  );
  return named || set.canonicalUser.includes(principal.canonicalId);
}

/**
 * Policy variables (version 2012-10-17): `${aws:username}` and other context keys, and the escapes
 * `${*}`, `${?}`, `${$}`. A variable whose key is missing makes the text match nothing (undefined).
 * An escaped `*` stays a wildcard-free literal only approximately: it is kept as `*`.
 */
function substituteVariables(text: string, context: Context): string | undefined {
  if (!text.includes('${')) return text;
  let missing = false;
  const out = text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return name;
    const value = context.get(name.toLowerCase());
    if (!value || value.length !== 1) {
      missing = true;
      return '';
    }
    return value[0];
  });
  return missing ? undefined : out;
}

const NEGATED: ReadonlySet<string> = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'NumericNotEquals',
  'DateNotEquals',
  'NotIpAddress',
  'ArnNotEquals',
  'ArnNotLike',
]);

/**
 * One key of one operator block. Several policy values are OR'ed (NOR for negated operators); a
 * missing key makes positive operators false and negated ones true, unless IfExists (true) or Null.
 * ForAnyValue: some request value matches; ForAllValues: every request value matches (true when
 * the key is missing or empty).
 */
function conditionHolds(condition: PolicyCondition, context: Context, variables: boolean): boolean {
  const requestValues = context.get(condition.key.toLowerCase());
  if (condition.base === 'Null') {
    const absent = requestValues === undefined || requestValues.length === 0;
    return condition.values.some((v) => (v.toLowerCase() === 'true') === absent);
  }
  const policyValues = variables
    ? condition.values.map((v) => substituteVariables(v, context)).filter((v): v is string => v !== undefined)
    : condition.values;
  const negated = NEGATED.has(condition.base);
  const positiveBase = positiveOf(condition.base);
  // A request value "matches" the block when it matches any policy value (positive form); negated
  // operators hold when it matches none.
  const valueHolds = (value: string) => {
    const matchesAny = policyValues.some((p) => compare(positiveBase, value, p));
    return negated ? !matchesAny : matchesAny;
  };
  if (condition.qualifier === 'ForAllValues') {
    if (requestValues === undefined || requestValues.length === 0) return true;
    return requestValues.every(valueHolds);
  }
  if (condition.qualifier === 'ForAnyValue') {
    if (requestValues === undefined || requestValues.length === 0) return false;
    return requestValues.some(valueHolds);
  }
  if (requestValues === undefined || requestValues.length === 0) return condition.ifExists || negated;
  return negated ? requestValues.every(valueHolds) : requestValues.some(valueHolds);
}

function positiveOf(base: PolicyCondition['base']): PolicyCondition['base'] {
  switch (base) {
    case 'StringNotEquals':
      return 'StringEquals';
    case 'StringNotEqualsIgnoreCase':
      return 'StringEqualsIgnoreCase';
    case 'StringNotLike':
      return 'StringLike';
    case 'NumericNotEquals':
      return 'NumericEquals';
    case 'DateNotEquals':
      return 'DateEquals';
    case 'NotIpAddress':
      return 'IpAddress';
    case 'ArnNotEquals':
      return 'ArnEquals';
    case 'ArnNotLike':
      return 'ArnLike';
    default:
      return base;
  }
}

/** Whether the request's value satisfies the policy's value under a positive operator. */
function compare(base: PolicyCondition['base'], requestValue: string, policyValue: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'ArnEquals':
      return requestValue === policyValue;
    case 'StringEqualsIgnoreCase':
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return wildcardMatch(policyValue, requestValue);
    case 'NumericEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals':
      return ordered(base.slice('Numeric'.length), parseConditionNumber(requestValue), parseConditionNumber(policyValue));
    case 'DateEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals':
      return ordered(base.slice('Date'.length), parseConditionDate(requestValue), parseConditionDate(policyValue));
    case 'Bool':
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case 'BinaryEquals':
      return requestValue === policyValue;
    case 'IpAddress': {
      const address = parseIpAddress(requestValue);
      const block = parseCidr(policyValue);
      return address !== undefined && block !== undefined && cidrContains(block, address);
    }
    default:
      // Negated and Null operators never reach here (positiveOf, conditionHolds).
      return false;
  }
}

function ordered(relation: string, left: number | undefined, right: number | undefined): boolean {
  if (left === undefined || right === undefined) return false;
  switch (relation) {
    case 'Equals':
      return left === right;
    case 'LessThan':
      return left < right;
    case 'LessThanEquals':
      return left <= right;
    case 'GreaterThan':
      return left > right;
    case 'GreaterThanEquals':
      return left >= right;
    default:
      return false;
  }
}
