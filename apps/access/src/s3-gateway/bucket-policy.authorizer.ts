import type { TLSSocket } from 'node:tls';
import { canonicalIdOf, decideAccess, parseBucketPolicy, type AccessControlList, type BucketPolicy, type BucketView, type PolicyPrincipal } from '@cairn/protocol';
import type { Logger } from 'pino';
import { objectArn, policyContextOf, type PolicyTarget } from '../domain/bucket-policy/s3-policy-request';
import { S3Error } from '../s3';
import type { S3Exchange } from './s3-exchange';

/**
 * Every request on a bucket is decided here, by the one engine in @cairn/protocol (decideAccess):
 * Cairn's root key always; an explicit Deny of the bucket policy refuses anyone else, the owner
 * included (except its own Get/Put/DeleteBucketPolicy); the owner otherwise; anyone else, an
 * anonymous request included, only where the policy or the bucket's ACL allows (PublicAccessBlock
 * and Object Ownership applied). Refusals are S3's AccessDenied.
 */
export class BucketPolicyAuthorizer {
  /** Parsed policies, per cached bucket view (views are cached and replaced on every bucket change). */
  private readonly parsed = new WeakMap<BucketView, BucketPolicy | null>();

  constructor(
    private readonly nowMs: () => number,
    private readonly logger?: Logger,
  ) {}

  /**
   * Throws AccessDenied unless the caller may do `target` on the bucket `view` describes. Without a
   * target (DeleteObjects, decided key by key) only a bucket without a policy is closed outright to
   * everyone but the owner and root: there is nothing that could allow a key.
   */
  check(exchange: S3Exchange, view: BucketView, target: PolicyTarget | undefined, objectAcl?: AccessControlList): void {
    if (target === undefined) {
      const caller = exchange.caller;
      const ownerOrRoot = caller.via !== 'anonymous' && (caller.isRoot || caller.owner === view.owner);
      if (!ownerOrRoot && this.policyOf(view) === undefined && effectiveBucketAcl(view) === undefined) throw new S3Error('AccessDenied');
      return;
    }
    if (!this.allows(exchange, view, target, objectAcl)) throw new S3Error('AccessDenied');
  }

  /** `objectAcl`: the named version's stored ACL, for actions decided on it (S3GatewayOptions.objectAclOf). */
  allows(exchange: S3Exchange, view: BucketView, target: PolicyTarget, objectAcl?: AccessControlList): boolean {
    const caller = exchange.caller;
    const anonymous = caller.via === 'anonymous';
    const policy = this.policyOf(view);
    const bucketAcl = effectiveBucketAcl(view);
    // Without a policy or an ACL granting anyone, the answer is ownership alone: no request context to build.
    if (policy === undefined && bucketAcl === undefined && objectAcl === undefined) return !anonymous && (caller.isRoot || caller.owner === view.owner);
    const canonicalId = anonymous ? undefined : canonicalIdOf(caller.owner);
    const principal: PolicyPrincipal = anonymous ? { kind: 'anonymous' } : { kind: 'account', account: caller.owner, canonicalId: canonicalId as string };
    const decision = decideAccess({
      ...(policy !== undefined ? { policy } : {}),
      callerIsRoot: !anonymous && caller.isRoot,
      callerOwnsBucket: !anonymous && caller.owner === view.owner,
      ...(canonicalId !== undefined ? { callerCanonicalId: canonicalId } : {}),
      ...(view.objectOwnership !== undefined ? { objectOwnership: view.objectOwnership } : {}),
      ...(bucketAcl !== undefined ? { bucketAcl } : {}),
      ...(objectAcl !== undefined ? { objectAcl } : {}),
      ...(view.publicAccessBlock !== undefined ? { publicAccessBlock: view.publicAccessBlock } : {}),
      request: { principal, action: target.action, resource: target.resource, context: policy !== undefined ? this.contextOf(exchange) : {} },
    });
    return decision.allowed;
  }

  /** For DeleteObjects: whether one of its keys may be deleted (s3:DeleteObject / s3:DeleteObjectVersion on the key). */
  objectDeleteCheck(exchange: S3Exchange, view: BucketView): (key: string, versionId: string | undefined) => boolean {
    return (key, versionId) =>
      this.allows(exchange, view, { action: versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion', resource: objectArn(view.name, key) });
  }

  private policyOf(view: BucketView): BucketPolicy | undefined {
    if (view.policy === undefined) return undefined;
    let policy = this.parsed.get(view);
    if (policy === undefined) {
      try {
        policy = parseBucketPolicy(view.policy, view.name);
      } catch (error) {
        // Metadata validated it on the way in; a stored policy that no longer parses grants nothing.
        this.logger?.warn({ err: error, bucket: view.name }, 'stored bucket policy does not parse; it grants nothing');
        policy = null;
      }
      this.parsed.set(view, policy);
    }
    return policy ?? undefined;
  }

  private contextOf(exchange: S3Exchange) {
    const req = exchange.req;
    const headers: Record<string, string | undefined> = {};
    for (const name of ['referer', 'user-agent', 'x-amz-acl', 'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-server-side-encryption', 'x-amz-storage-class', 'x-amz-content-sha256', 'x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control', 'x-amz-website-redirect-location', 'x-amz-object-ownership']) {
      headers[name] = exchange.header(name);
    }
    const query: Record<string, string | undefined> = {};
    for (const name of ['prefix', 'delimiter', 'max-keys']) query[name] = exchange.query(name);
    const caller = exchange.caller;
    const anonymous = caller.via === 'anonymous';
    return policyContextOf({
      sourceIp: sourceIpOf(req.socket.remoteAddress),
      secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true,
      nowMs: this.nowMs(),
      headers,
      query,
      ...(anonymous ? {} : { auth: caller.via as 'header' | 'presigned', account: caller.owner, accessKeyId: caller.accessKeyId }),
      operation: exchange.route?.operation ?? 'ListBuckets',
      ...(exchange.route?.versionId !== undefined ? { versionId: exchange.route.versionId } : {}),
    });
  }
}

/** The peer's address as IAM shows it: an IPv4 client on a dual-stack socket without its `::ffff:`. */
function sourceIpOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** The bucket's ACL where it can grant anyone anything: ACLs on (not BucketOwnerEnforced) and one was put. */
function effectiveBucketAcl(view: BucketView): AccessControlList | undefined {
  if (view.objectOwnership === 'BucketOwnerEnforced' || view.acl === undefined) return undefined;
  return view.acl;
}
