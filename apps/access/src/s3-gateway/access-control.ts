import { S3Error } from '../s3';
import { MAX_XML_BODY_BYTES } from '../s3/xml/request-bodies.parser';
import { readSmallBody } from './request-body';
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
  const body = (await readSmallBody(ex.req, ex.caller, MAX_XML_BODY_BYTES)).toString('utf8');
  const canned = ex.header('x-amz-acl');
  const grants = GRANT_HEADERS.filter((name) => ex.header(name) !== undefined);
  if (canned !== undefined && !OWNER_ONLY_CANNED_ACLS.has(canned.trim())) throw wider(`the ${canned} canned ACL`);
  if (grants.length > 0) throw wider(grants.join(', '));
  if (body.trim() === '') return;
  const permissions = [...body.matchAll(/<Permission>\s*([^<]*?)\s*<\/Permission>/g)].map((m) => m[1]);
  const granteeIds = [...body.matchAll(/<Grantee\b[^>]*>[\s\S]*?<\/Grantee>/g)].map((m) => /<ID>\s*([^<]*?)\s*<\/ID>/.exec(m[0])?.[1]);
  if (!/<AccessControlPolicy\b/.test(body)) throw new S3Error('MalformedACLError');
  if (permissions.some((p) => p !== 'FULL_CONTROL') || granteeIds.some((id) => id !== owner)) throw wider('grants to anyone but the owner');
}

function wider(what: string): S3Error {
  return new S3Error('NotImplemented', `Cairn grants access by bucket ownership only; ${what} cannot be honoured.`);
}
