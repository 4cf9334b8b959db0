import { BUCKET_POLICY_MAX_BYTES, BucketPolicyError, isBucketPolicyPublic, parseBucketPolicy } from '@cairn/protocol';
import { S3Error, S3_XML_NAMESPACE } from '../s3';
import type { GatewayDeps } from './gateway-deps';
import { readSmallBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

/** PutBucketPolicy reads at most this much; a longer document is refused before metadata sees it. */
const POLICY_BODY_READ_MAX_BYTES = BUCKET_POLICY_MAX_BYTES + 1024;

/**
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. The policy is stored by metadata as the
 * text the owner put (validated there too, so a bad document is never stored) and comes back on
 * the bucket's view, which every request already reads to authorize.
 */
export class BucketPolicyHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly putBucketPolicy = async (ex: S3Exchange): Promise<void> => {
    const body = await readSmallBody(ex.req, ex.caller, POLICY_BODY_READ_MAX_BYTES).catch((error: unknown) => {
      if (error instanceof S3Error && (error.code === 'EntityTooLarge' || error.code === 'MaxMessageLengthExceeded')) throw tooLarge();
      throw error;
    });
    if (body.length > BUCKET_POLICY_MAX_BYTES) throw tooLarge();
    const text = body.toString('utf8');
    try {
      parseBucketPolicy(text, ex.bucket);
    } catch (error) {
      if (error instanceof BucketPolicyError) throw new S3Error('MalformedPolicy', error.message);
      throw error;
    }
    await this.deps.metadata.putBucketPolicy({ bucket: ex.bucket, policy: text });
    ex.sendEmpty({}, 204);
  };

  readonly getBucketPolicy = async (ex: S3Exchange): Promise<void> => {
    const policy = policyOf(ex);
    const bytes = Buffer.from(policy, 'utf8');
    ex.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(bytes.length) });
    ex.res.end(ex.method === 'HEAD' ? undefined : bytes);
  };

  readonly deleteBucketPolicy = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketPolicy({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };

  readonly getBucketPolicyStatus = async (ex: S3Exchange): Promise<void> => {
    const isPublic = isBucketPolicyPublic(parseBucketPolicy(policyOf(ex), ex.bucket));
    ex.sendXml(`<?xml version="1.0" encoding="UTF-8"?>\n<PolicyStatus xmlns="${S3_XML_NAMESPACE}"><IsPublic>${isPublic}</IsPublic></PolicyStatus>`);
  };
}

function policyOf(ex: S3Exchange): string {
  const policy = ex.bucketInfo.policy;
  if (policy === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ex.bucket });
  return policy;
}

function tooLarge(): S3Error {
  return new S3Error('MalformedPolicy', `Policies must be no larger than ${BUCKET_POLICY_MAX_BYTES} bytes`);
}
