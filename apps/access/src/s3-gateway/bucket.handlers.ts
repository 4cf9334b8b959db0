import { MetadataErrorCodes, CairnError } from '@cairn/protocol';
import {
  MAX_BUCKET_TAGS,
  S3Error,
  parseCreateBucketConfiguration,
  parseTagging,
  parseVersioningConfiguration,
  renderListAllMyBucketsResult,
  renderLocationConstraint,
  renderOwnerOnlyAcl,
  renderTagging,
  renderVersioningConfiguration,
} from '../s3';
import { acceptOwnerOnlyAcl } from './access-control';
import type { GatewayDeps } from './gateway-deps';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

export class BucketHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly listBuckets = async (ex: S3Exchange): Promise<void> => {
    const caller = ex.caller;
    const reply = await this.deps.metadata.listBuckets(caller.isRoot ? {} : { owner: caller.owner });
    const buckets = [...reply.buckets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    ex.sendXml(
      renderListAllMyBucketsResult(
        { id: caller.owner, displayName: caller.owner },
        buckets.map((bucket) => ({ name: bucket.name, creationDate: new Date(bucket.createdAt), region: this.deps.s3Region })),
      ),
    );
  };

  readonly createBucket = async (ex: S3Exchange): Promise<void> => {
    const configuration = parseCreateBucketConfiguration(await readXmlBody(ex.req, ex.caller));
    const constraint = configuration.locationConstraint;
    if (constraint !== undefined && constraint !== this.deps.s3Region) {
      throw new S3Error('IllegalLocationConstraintException', `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
    try {
      await this.deps.metadata.createBucket({ ...objectLockOfCreate(ex), bucket: ex.bucket, owner: ex.caller.owner });
    } catch (error) {
      // A bucket owned by someone else is "taken" whoever asks; S3 tells its owner it already has it.
      if (error instanceof CairnError && error.code === MetadataErrorCodes.BucketAlreadyExists && ex.caller.isRoot) {
        throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: ex.bucket });
      }
      throw error;
    }
    ex.sendEmpty({ Location: `/${ex.bucket}` });
  };

  readonly deleteBucket = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucket({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };

  readonly headBucket = async (ex: S3Exchange): Promise<void> => {
    ex.sendEmpty({ 'x-amz-bucket-region': this.deps.s3Region });
  };

  readonly getBucketLocation = async (ex: S3Exchange): Promise<void> => {
    ex.sendXml(renderLocationConstraint(this.deps.s3Region));
  };

  readonly getBucketVersioning = async (ex: S3Exchange): Promise<void> => {
    const status = ex.bucketInfo.versioning;
    ex.sendXml(renderVersioningConfiguration(status === 'Unversioned' ? undefined : status));
  };

  readonly putBucketVersioning = async (ex: S3Exchange): Promise<void> => {
    const configuration = parseVersioningConfiguration(await readXmlBody(ex.req, ex.caller));
    if (!configuration.status) throw new S3Error('IllegalVersioningConfigurationException');
    await this.deps.metadata.setBucketVersioning({ bucket: ex.bucket, versioning: configuration.status });
    ex.sendEmpty();
  };

  readonly getBucketTagging = async (ex: S3Exchange): Promise<void> => {
    const { tags } = ex.bucketInfo;
    if (tags.length === 0) throw new S3Error('NoSuchTagSet', undefined, { BucketName: ex.bucket });
    ex.sendXml(renderTagging(tags));
  };

  readonly putBucketTagging = async (ex: S3Exchange): Promise<void> => {
    const tags = parseTagging(await readXmlBody(ex.req, ex.caller), MAX_BUCKET_TAGS);
    await this.deps.metadata.putBucketTags({ bucket: ex.bucket, tags });
    ex.sendEmpty({}, 204);
  };

  readonly deleteBucketTagging = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketTags({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };

  readonly getBucketAcl = async (ex: S3Exchange): Promise<void> => {
    const owner = ex.bucketInfo.owner;
    ex.sendXml(renderOwnerOnlyAcl({ id: owner, displayName: owner }));
  };

  readonly putBucketAcl = async (ex: S3Exchange): Promise<void> => {
    await acceptOwnerOnlyAcl(ex, ex.bucketInfo.owner);
    ex.sendEmpty();
  };
}

/** x-amz-bucket-object-lock-enabled: true makes a bucket with Object Lock on (and versioning Enabled). */
function objectLockOfCreate(ex: S3Exchange): { objectLockEnabled?: true } {
  return ex.header('x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true' ? { objectLockEnabled: true } : {};
}
