import { ALL_USERS_GROUP, AUTHENTICATED_USERS_GROUP, type AclGrant, type ObjectOwnership, type PublicAccessBlock } from '@cairn/protocol';
import { S3Error } from '../errors/s3.errors';
import { children, isBlank, leafText, list, parseRoot } from './request-bodies.parser';
import { renderOwner, type OwnerView } from './bucket-results.xml';
import { xmlDocument, xmlElement, xmlNode } from './xml-text';

/** One grant as rendered: a canonical user's display name comes from the user directory. */
export interface RenderedGrant {
  readonly grant: AclGrant;
  readonly displayName?: string;
}

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

/** GetBucketAcl / GetObjectAcl: the owner and every grant, grantees typed as S3 types them. */
export function renderAccessControlPolicy(owner: OwnerView, grants: readonly RenderedGrant[]): string {
  return xmlDocument('AccessControlPolicy', [
    renderOwner('Owner', owner),
    xmlNode(
      'AccessControlList',
      grants.map(({ grant, displayName }) => {
        const grantee =
          grant.grantee.type === 'CanonicalUser'
            ? `<Grantee ${XSI} xsi:type="CanonicalUser">${xmlElement('ID', grant.grantee.id)}${displayName !== undefined ? xmlElement('DisplayName', displayName) : ''}</Grantee>`
            : `<Grantee ${XSI} xsi:type="Group">${xmlElement('URI', grant.grantee.uri)}</Grantee>`;
        return xmlNode('Grant', [grantee, xmlElement('Permission', grant.permission)]);
      }),
    ),
  ]);
}

/** GetBucketOwnershipControls. */
export function renderOwnershipControls(objectOwnership: ObjectOwnership): string {
  return xmlDocument('OwnershipControls', [xmlNode('Rule', [xmlElement('ObjectOwnership', objectOwnership)])]);
}

/** PutBucketOwnershipControls: exactly one Rule with one ObjectOwnership; anything else MalformedXML. */
export function parseOwnershipControls(body: string | Buffer | undefined): string {
  if (isBlank(body)) throw new S3Error('MalformedXML');
  const root = children(parseRoot(body as string | Buffer, 'OwnershipControls'));
  const rules = list(root['Rule']);
  if (rules.length !== 1) throw new S3Error('MalformedXML');
  const value = leafText(children(rules[0])['ObjectOwnership'])?.trim();
  if (value === undefined) throw new S3Error('MalformedXML');
  return value;
}

const PAB_FLAGS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const;

/** PutPublicAccessBlock: the four flags, each `true`/`false` (case-insensitive), a missing one false. */
export function parsePublicAccessBlock(body: string | Buffer | undefined): PublicAccessBlock {
  if (isBlank(body)) throw new S3Error('MalformedXML');
  const root = children(parseRoot(body as string | Buffer, 'PublicAccessBlockConfiguration'));
  const flags: Record<string, boolean> = {};
  for (const [element, field] of PAB_FLAGS) {
    const text = leafText(root[element])?.trim().toLowerCase();
    if (text !== undefined && text !== 'true' && text !== 'false') throw new S3Error('MalformedXML');
    flags[field] = text === 'true';
  }
  return flags as unknown as PublicAccessBlock;
}

export function renderPublicAccessBlock(pab: PublicAccessBlock): string {
  return xmlDocument('PublicAccessBlockConfiguration', PAB_FLAGS.map(([element, field]) => xmlElement(element, String(pab[field]))));
}

/** Whether a group grant reaches the public (for messages and PolicyStatus-like answers). */
export function isPublicGroup(uri: string): boolean {
  return uri === ALL_USERS_GROUP || uri === AUTHENTICATED_USERS_GROUP;
}
