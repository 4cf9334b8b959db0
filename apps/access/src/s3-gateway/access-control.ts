import { S3Error, parseAccessControlPolicy } from '../s3';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

/** Canned ACLs that say what Cairn already does: the bucket owner, and only the owner, has full control. */
const OWNER_ONLY_CANNED_ACLS: ReadonlySet<string> = new Set(['private', 'bucket-owner-full-control']);
const GRANT_HEADERS = ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'];

/**
 * PutBucketAcl / PutObjectAcl: Cairn's access control is ownership (a key reaches its owner's
 * buckets), so an ACL that grants exactly that is accepted and anything wider is refused rather
 * than silently ignored.
 */
export async function acceptOwnerOnlyAcl(ex: S3Exchange, owner: string): Promise<void> {
  const body = await readXmlBody(ex.req, ex.caller).catch((error: unknown) => {
    // S3 names every bad ACL document MalformedACLError, an oversized one included.
    throw error instanceof S3Error && error.code === 'MalformedXML' ? new S3Error('MalformedACLError') : error;
  });
  const canned = ex.header('x-amz-acl');
  const grants = GRANT_HEADERS.filter((name) => ex.header(name) !== undefined);
  if (canned !== undefined && !OWNER_ONLY_CANNED_ACLS.has(canned.trim())) throw wider(`the ${canned} canned ACL`);
  if (grants.length > 0) throw wider(grants.join(', '));
  if (body.toString('utf8').trim() === '') return;
  const policy = parseAccessControlPolicy(body);
  if (policy.grants.some((grant) => grant.permission !== 'FULL_CONTROL' || grant.granteeId !== owner)) throw wider('grants to anyone but the owner');
}

function wider(what: string): S3Error {
  return new S3Error('NotImplemented', `Cairn grants access by bucket ownership only; ${what} cannot be honoured.`);
}
