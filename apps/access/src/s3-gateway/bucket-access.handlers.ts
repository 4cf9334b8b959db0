import type { UserDirectory } from '../adapters/user-directory';
import { S3Error, parseOwnershipControls, parsePublicAccessBlock, renderOwnershipControls, renderPublicAccessBlock } from '../s3';
import { aclFromRequest, bucketAclOf, bucketOwnerId, objectAclOf, refuseObjectAcl, renderAcl } from './access-control';
import type { GatewayDeps } from './gateway-deps';
import { versionIdHeader } from './object-headers';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

/**
 * Bucket and object ACLs, Object Ownership controls and PublicAccessBlock (docs/acls.md). Who may
 * call them is decided before (s3:GetBucketAcl, s3:PutBucketOwnershipControls, …); S3's refusals of
 * the settings themselves come from metadata's bucket decider.
 */
export class BucketAccessHandlers {
  private readonly users: UserDirectory;

  constructor(private readonly deps: GatewayDeps) {
    this.users = deps.users;
  }

  readonly getBucketAcl = async (ex: S3Exchange): Promise<void> => {
    ex.sendXml(await renderAcl(this.users, bucketAclOf(ex.bucketInfo)));
  };

  readonly putBucketAcl = async (ex: S3Exchange): Promise<void> => {
    const acl = await aclFromRequest(ex, this.users, { ownerId: bucketOwnerId(ex.bucketInfo) });
    await this.deps.metadata.putBucketAcl({ bucket: ex.bucket, acl });
    ex.sendEmpty();
  };

  /** A version's ACL (`?acl&versionId=`): the stored one, or the bucket owner's private when none is stored or ACLs are disabled. */
  readonly getObjectAcl = async (ex: S3Exchange): Promise<void> => {
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...versionOf(ex) });
    ex.sendXml(await renderAcl(this.users, objectAclOf(ex.bucketInfo, view.acl)), versionIdHeader(ex.bucketInfo.versioning, view.versionId));
  };

  /**
   * Replaces a version's ACL (headers or an AccessControlPolicy body); its owner stays. S3's
   * refusals (ACLs disabled, BlockPublicAcls) come before the write, and again from metadata's
   * key decider.
   */
  readonly putObjectAcl = async (ex: S3Exchange): Promise<void> => {
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...versionOf(ex) });
    const bucket = ex.bucketInfo;
    const acl = await aclFromRequest(ex, this.users, { ownerId: objectAclOf(bucket, view.acl).ownerId, bucketOwnerId: bucketOwnerId(bucket) });
    refuseObjectAcl(bucket, acl);
    await this.deps.metadata.putObjectAcl({ bucket: ex.bucket, key: ex.key, versionId: view.versionId, acl });
    ex.sendEmpty(versionIdHeader(bucket.versioning, view.versionId));
  };

  readonly getBucketOwnershipControls = async (ex: S3Exchange): Promise<void> => {
    const ownership = ex.bucketInfo.objectOwnership;
    if (ownership === undefined) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: ex.bucket });
    ex.sendXml(renderOwnershipControls(ownership));
  };

  readonly putBucketOwnershipControls = async (ex: S3Exchange): Promise<void> => {
    const objectOwnership = parseOwnershipControls(await readXmlBody(ex.req, ex.caller));
    await this.deps.metadata.putBucketOwnershipControls({ bucket: ex.bucket, objectOwnership: objectOwnership as never });
    ex.sendEmpty();
  };

  readonly deleteBucketOwnershipControls = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketOwnershipControls({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };

  readonly getPublicAccessBlock = async (ex: S3Exchange): Promise<void> => {
    const pab = ex.bucketInfo.publicAccessBlock;
    if (pab === undefined) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: ex.bucket });
    ex.sendXml(renderPublicAccessBlock(pab));
  };

  readonly putPublicAccessBlock = async (ex: S3Exchange): Promise<void> => {
    const publicAccessBlock = parsePublicAccessBlock(await readXmlBody(ex.req, ex.caller));
    await this.deps.metadata.putBucketPublicAccessBlock({ bucket: ex.bucket, publicAccessBlock });
    ex.sendEmpty();
  };

  readonly deletePublicAccessBlock = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketPublicAccessBlock({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };
}

function versionOf(ex: S3Exchange): { versionId?: string } {
  const versionId = ex.route?.versionId;
  return versionId === undefined ? {} : { versionId };
}

