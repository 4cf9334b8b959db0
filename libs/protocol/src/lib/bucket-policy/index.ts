export * from './bucket-policy.types';
export * from './bucket-policy.parser';
export * from './bucket-policy.evaluator';
export * from './bucket-policy.public';
export { wildcardMatch, parseCidr, parseIpAddress, cidrContains } from './policy-match';
export { S3_POLICY_ACTIONS } from './s3-policy-actions';
