import type { BucketPolicy, PolicyCondition, PolicyStatement } from './bucket-policy.types';
import { parseCidr } from './policy-match';

/**
 * Condition keys that, pinned to fixed values, keep a statement to known callers (S3's list for
 * "non-public" policies, less the AWS-only keys Cairn never fills, which therefore pin nothing
 * here either way: a statement conditioned on them applies to nobody).
 */
const RESTRICTING_KEYS: ReadonlySet<string> = new Set([
  'aws:sourceip',
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:principalorgid',
  'aws:userid',
  'aws:username',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);
const PINNING_OPERATORS: ReadonlySet<string> = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'IpAddress']);
/** S3 counts an IPv4 block wider than /8 (or IPv6 wider than /32) as the public internet. */
const MIN_PINNED_IPV4_PREFIX_BITS = 8;
const MIN_PINNED_IPV6_PREFIX_BITS = 32;

/**
 * GetBucketPolicyStatus's IsPublic: the policy has an Allow statement reaching everyone (Principal
 * `*` or `{"AWS": "*"}`, or a NotPrincipal) that no condition pins to fixed callers — a
 * source IP block of /8 or narrower, or a fixed value of an account, ARN, VPC or user id key.
 */
export function isBucketPolicyPublic(policy: BucketPolicy): boolean {
  return policy.statements.some((statement) => statement.effect === 'Allow' && reachesEveryone(statement) && !statement.conditions.some(pins));
}

function reachesEveryone(statement: PolicyStatement): boolean {
  if (statement.notPrincipal) return true;
  const principal = statement.principal;
  return principal !== undefined && (principal.kind === 'everyone' || principal.aws.includes('*'));
}

function pins(condition: PolicyCondition): boolean {
  if (condition.qualifier === 'ForAllValues' || condition.ifExists) return false;
  if (!PINNING_OPERATORS.has(condition.base) || !RESTRICTING_KEYS.has(condition.key.toLowerCase())) return false;
  if (condition.base === 'IpAddress') {
    return condition.values.every((v) => {
      const block = parseCidr(v);
      if (!block) return false;
      const v6 = v.includes(':');
      return v6 ? block.prefixBits >= MIN_PINNED_IPV6_PREFIX_BITS : block.prefixBits - 96 >= MIN_PINNED_IPV4_PREFIX_BITS;
    });
  }
  return condition.values.every((v) => v !== '' && !v.includes('*') && !v.includes('?'));
}
