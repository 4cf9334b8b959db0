import { MetadataErrorCodes, CairnError, canonicalIdOf, DEFAULT_OBJECT_OWNERSHIP, isObjectOwnership, type ObjectOwnership } from '@cairn/protocol';
import {
  MAX_BUCKET_TAGS,
  DEFAULT_S3_REGION,
  S3Error,
  parseCreateBucketConfiguration,
  parseTagging,
  parseVersioningConfiguration,
  renderListAllMyBucketsResult,
  renderLocationConstraint,
  renderTagging,
  renderVersioningConfiguration,
} from '../s3';
import { decodeBucketToken, MAX_BUCKETS_PER_PAGE, pageBuckets, type BucketPageRequest } from '../domain/bucket-page';
import { aclFromHeaders } from './access-control';
import type { GatewayDeps } from './gateway-deps';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

export class BucketHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly listBuckets = async (ex: S3Exchange): Promise<void> => {
    const caller = ex.caller;
    const reply = await this.deps.metadata.listBuckets(caller.isRoot ? {} : { owner: caller.owner });
    const sorted = [...reply.buckets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const request = bucketPageRequest(ex);
    const page = pageBuckets(sorted, request, request.continuationToken === undefined ? undefined : decodeBucketToken(request.continuationToken));
    ex.sendXml(
      renderListAllMyBucketsResult(
        { id: canonicalIdOf(caller.owner), displayName: (await this.deps.users.byName(caller.owner)).displayName },
        page.buckets.map((bucket) => ({ name: bucket.name, creationDate: new Date(bucket.createdAt), region: this.deps.s3Region })),
        { ...(page.continuationToken !== undefined ? { continuationToken: page.continuationToken } : {}), ...(request.prefix !== undefined ? { prefix: request.prefix } : {}) },
      ),
    );
  };

  readonly createBucket = async (ex: S3Exchange): Promise<void> => {
    const configuration = parseCreateBucketConfiguration(await readXmlBody(ex.req, ex.caller));
    const constraint = configuration.locationConstraint;
    if (constraint !== undefined && constraint !== this.deps.s3Region) {
      throw new S3Error('IllegalLocationConstraintException', `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
    const objectOwnership = objectOwnershipOfCreate(ex);
    const acl = await aclFromHeaders(ex, this.deps.users, { ownerId: canonicalIdOf(ex.caller.owner) });
    try {
      await this.deps.metadata.createBucket({ ...objectLockOfCreate(ex), bucket: ex.bucket, owner: ex.caller.owner, objectOwnership, ...(acl ? { acl } : {}) });
    } catch (error) {
      const ownedAlready = error instanceof CairnError && (error.code === MetadataErrorCodes.BucketAlreadyOwnedByYou || (error.code === MetadataErrorCodes.BucketAlreadyExists && ex.caller.isRoot));
      // us-east-1 answers its owner's re-creation with 200 (its legacy behaviour); other regions with BucketAlreadyOwnedByYou.
      if (ownedAlready && this.deps.s3Region === DEFAULT_S3_REGION) {
        ex.sendEmpty({ Location: `/${ex.bucket}` });
        return;
      }
      // A bucket owned by someone else is "taken" whoever asks; S3 tells its owner it already has it.
      if (ownedAlready) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: ex.bucket });
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
}

/** x-amz-bucket-object-lock-enabled: true makes a bucket with Object Lock on (and versioning Enabled). */
function objectLockOfCreate(ex: S3Exchange): { objectLockEnabled?: true } {
  return ex.header('x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true' ? { objectLockEnabled: true } : {};
}

/** x-amz-object-ownership on CreateBucket; S3's default, BucketOwnerEnforced, when absent. */
function objectOwnershipOfCreate(ex: S3Exchange): ObjectOwnership {
  const header = ex.header('x-amz-object-ownership')?.trim();
  if (header === undefined) return DEFAULT_OBJECT_OWNERSHIP;
  if (!isObjectOwnership(header)) throw new S3Error('InvalidArgument', `Invalid x-amz-object-ownership header: ${header}`, { ArgumentName: 'x-amz-object-ownership' });
  return header;
}

/** ListBuckets' max-buckets (1..10000), continuation-token (empty: none) and prefix. */
function bucketPageRequest(ex: S3Exchange): BucketPageRequest {
  const max = ex.query('max-buckets');
  if (max !== undefined && !(/^\d{1,5}$/.test(max) && Number(max) >= 1 && Number(max) <= MAX_BUCKETS_PER_PAGE)) {
    throw new S3Error('InvalidArgument', `max-buckets must be a whole number from 1 to ${MAX_BUCKETS_PER_PAGE}.`, { ArgumentName: 'max-buckets', ArgumentValue: max });
  }
  const token = ex.query('continuation-token');
  if (token !== undefined && token !== '' && decodeBucketToken(token) === undefined) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  const prefix = ex.query('prefix');
  return {
    ...(max !== undefined ? { maxBuckets: Number(max) } : {}),
    ...(token !== undefined && token !== '' ? { continuationToken: token } : {}),
    ...(prefix !== undefined && prefix !== '' ? { prefix } : {}),
  };
}
