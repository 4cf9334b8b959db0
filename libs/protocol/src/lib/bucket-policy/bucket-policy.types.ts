/** A bucket policy as parsed and validated (the stored form is the JSON text the owner put). */
export interface BucketPolicy {
  readonly version: BucketPolicyVersion;
  readonly id?: string;
  readonly statements: readonly PolicyStatement[];
}

export const BUCKET_POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;
export type BucketPolicyVersion = (typeof BUCKET_POLICY_VERSIONS)[number];

/** S3's limit on a bucket policy document. */
export const BUCKET_POLICY_MAX_BYTES = 20 * 1024;
/** Bounds that keep evaluation cheap whatever is stored. */
export const BUCKET_POLICY_MAX_STATEMENTS = 1000;

export type PolicyEffect = 'Allow' | 'Deny';

/** `"*"` (everyone, anonymous included) or lists by principal type. */
export type PrincipalSet =
  | { readonly kind: 'everyone' }
  | {
      readonly kind: 'listed';
      /** `*`, account names (`alice`), `arn:aws:iam::<account>:root` or `…:user/<name>`. */
      readonly aws: readonly string[];
      readonly canonicalUser: readonly string[];
      /** Service and Federated principals are accepted but name nobody Cairn knows. */
      readonly other: readonly string[];
    };

export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: PolicyEffect;
  /** Exactly one of principal / notPrincipal. */
  readonly principal?: PrincipalSet;
  readonly notPrincipal?: PrincipalSet;
  /** Exactly one of action / notAction; patterns keep their `*` and `?`. */
  readonly action?: readonly string[];
  readonly notAction?: readonly string[];
  /** Exactly one of resource / notResource. */
  readonly resource?: readonly string[];
  readonly notResource?: readonly string[];
  readonly conditions: readonly PolicyCondition[];
}

export type ConditionOperatorBase =
  | 'StringEquals'
  | 'StringNotEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringNotEqualsIgnoreCase'
  | 'StringLike'
  | 'StringNotLike'
  | 'NumericEquals'
  | 'NumericNotEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'DateEquals'
  | 'DateNotEquals'
  | 'DateLessThan'
  | 'DateLessThanEquals'
  | 'DateGreaterThan'
  | 'DateGreaterThanEquals'
  | 'Bool'
  | 'BinaryEquals'
  | 'IpAddress'
  | 'NotIpAddress'
  | 'ArnEquals'
  | 'ArnLike'
  | 'ArnNotEquals'
  | 'ArnNotLike'
  | 'Null';

export interface PolicyCondition {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  readonly operator: string;
  readonly base: ConditionOperatorBase;
  readonly ifExists: boolean;
  readonly qualifier?: 'ForAnyValue' | 'ForAllValues';
  /** As written; compared case-insensitively. */
  readonly key: string;
  readonly values: readonly string[];
}
