import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../errors/s3.errors';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../integrity/checksum-algorithms';
import { unquoteEtag } from './xml-text';
import {
  MAX_DELETE_OBJECTS,
  MAX_OBJECT_TAGS,
  MAX_PART_NUMBER,
  MAX_TAG_KEY_LENGTH_CHARS,
  MAX_TAG_VALUE_LENGTH_CHARS,
  MIN_PART_NUMBER,
} from '../s3-limits';

/** Request bodies larger than this are refused before parsing (1000 keys of 1 KiB fit easily). */
export const MAX_XML_BODY_BYTES = 2 * 1024 * 1024;
/**
 * Elements nested deeper than this are refused (MalformedXML) before the parser's own limit is
 * reached. The deepest body S3 defines here, an ACL grantee's ID, is 5 levels down.
 */
export const MAX_XML_NESTING_DEPTH = 32;

const REPEATED_ELEMENTS = new Set(['Object', 'Part', 'Tag', 'Grant', 'Rule', 'Transition', 'NoncurrentVersionTransition']);
const ENTITY_PATTERN = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos)?;?/g;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const MAX_CODE_POINT = 0x10ffff;

// Entities are left alone by the parser and decoded here, one pass over leaf text only, so
// DOCTYPE-declared entities never expand and `&amp;#13;` stays the literal text `&#13;`.
const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name) => REPEATED_ELEMENTS.has(name),
  maxNestedTags: MAX_XML_NESTING_DEPTH,
});

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

export function decodeXmlEntities(text: string): string {
  return text.replace(ENTITY_PATTERN, (match, entity: string | undefined) => {
    if (entity === undefined || !match.endsWith(';')) throw malformed();
    if (entity.startsWith('#')) {
      const codePoint = entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      if (codePoint > MAX_CODE_POINT || (codePoint >= 0xd800 && codePoint <= 0xdfff)) throw malformed();
      return String.fromCodePoint(codePoint);
    }
    return NAMED_ENTITIES[entity];
  });
}

export type XmlNode = string | { readonly [name: string]: XmlNode | readonly XmlNode[] };

/**
 * Parses a whole body, checks well-formedness, size, nesting depth and the root element, and
 * returns the root's content. Whatever the parser throws on a body is the client's malformed XML.
 */
export function parseRoot(body: string | Buffer, rootName: string): XmlNode {
  if (body.length > MAX_XML_BODY_BYTES) throw new S3Error('MalformedXML', 'The XML you provided was too large.');
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw malformed();
  if (nestingDepthExceeds(text, MAX_XML_NESTING_DEPTH)) throw new S3Error('MalformedXML', 'The XML you provided was nested too deeply.');
  let parsed: Record<string, XmlNode>;
  try {
    if (XMLValidator.validate(text) !== true) throw malformed();
    parsed = parser.parse(text) as Record<string, XmlNode>;
  } catch {
    throw malformed();
  }
  const roots = Object.keys(parsed).filter((name) => name !== '#text');
  if (roots.length !== 1 || roots[0] !== rootName || Array.isArray(parsed[rootName])) throw malformed();
  return parsed[rootName] as XmlNode;
}

const TAG_PATTERN = /<(\/?)[A-Za-z_][^<>]*?(\/?)>/g;

/**
 * Whether elements nest deeper than `limit`, counted over start and end tags in one linear pass
 * (comments, CDATA and processing instructions do not match the tag pattern). Only an upper bound
 * check: well-formedness is the validator's.
 */
function nestingDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  for (const match of text.matchAll(TAG_PATTERN)) {
    if (match[1] === '/') depth--;
    else if (match[2] !== '/' && ++depth > limit) return true;
  }
  return false;
}

export function children(node: XmlNode): Readonly<Record<string, XmlNode | readonly XmlNode[]>> {
  return typeof node === 'string' ? {} : node;
}

/** The text of a leaf element; elements with children are malformed where text is expected. */
export function leafText(node: XmlNode | readonly XmlNode[] | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (Array.isArray(node)) throw malformed();
  if (typeof node !== 'string') {
    const keys = Object.keys(node);
    if (keys.length === 0) return '';
    throw malformed();
  }
  return decodeXmlEntities(node);
}

export function list(node: XmlNode | readonly XmlNode[] | undefined): readonly XmlNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? (node as readonly XmlNode[]) : [node as XmlNode];
}

export function isBlank(body: string | Buffer | undefined): boolean {
  return body === undefined || body.length === 0 || (typeof body === 'string' ? body : body.toString('utf8')).trim() === '';
}

export interface CreateBucketConfiguration {
  readonly locationConstraint?: string;
}

/** An empty body is valid (the default region). */
export function parseCreateBucketConfiguration(body: string | Buffer | undefined): CreateBucketConfiguration {
  if (isBlank(body)) return {};
  const root = children(parseRoot(body as string | Buffer, 'CreateBucketConfiguration'));
  const locationConstraint = leafText(root['LocationConstraint']);
  return locationConstraint === undefined || locationConstraint === '' ? {} : { locationConstraint: locationConstraint.trim() };
}

export interface CompletedPart {
  readonly partNumber: number;
  /** Without quotes. */
  readonly etag: string;
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>;
}

/** Parts must be listed in ascending part-number order (InvalidPartOrder), without repeats. */
export function parseCompleteMultipartUpload(body: string | Buffer | undefined): readonly CompletedPart[] {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'CompleteMultipartUpload'));
  const parts = list(root['Part']).map((node): CompletedPart => {
    const fields = children(node);
    const numberText = leafText(fields['PartNumber'])?.trim();
    const etag = leafText(fields['ETag']);
    if (numberText === undefined || etag === undefined || !/^\d{1,5}$/.test(numberText)) throw malformed();
    const partNumber = Number(numberText);
    if (partNumber < MIN_PART_NUMBER || partNumber > MAX_PART_NUMBER) {
      throw new S3Error('InvalidArgument', `Part number must be an integer between ${MIN_PART_NUMBER} and ${MAX_PART_NUMBER}, inclusive`);
    }
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (!name.startsWith('Checksum')) continue;
      const algorithm = parseChecksumAlgorithm(name.slice('Checksum'.length));
      if (!algorithm) throw malformed();
      checksums[algorithm] = (leafText(value) ?? '').trim();
    }
    return { partNumber, etag: unquoteEtag(etag), checksums };
  });
  if (parts.length === 0) throw malformed();
  for (let i = 1; i < parts.length; i++) {
    if (parts[i].partNumber <= parts[i - 1].partNumber) throw new S3Error('InvalidPartOrder');
  }
  return parts;
}

export interface ObjectIdentifier {
  readonly key: string;
  readonly versionId?: string;
  /** A conditional delete of this entry: the ETag its current version must have (S3's If-Match for DeleteObjects). */
  readonly etag?: string;
}

export interface DeleteObjectsRequest {
  readonly quiet: boolean;
  readonly objects: readonly ObjectIdentifier[];
}

export function parseDeleteObjects(body: string | Buffer | undefined): DeleteObjectsRequest {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'Delete'));
  const quietText = leafText(root['Quiet'])?.trim().toLowerCase();
  if (quietText !== undefined && quietText !== 'true' && quietText !== 'false') throw malformed();
  const objects = list(root['Object']).map((node): ObjectIdentifier => {
    const fields = children(node);
    const key = leafText(fields['Key']);
    if (key === undefined) throw malformed();
    const versionId = leafText(fields['VersionId']);
    const etag = leafText(fields['ETag']);
    return { key, ...(versionId === undefined || versionId === '' ? {} : { versionId }), ...(etag === undefined || etag === '' ? {} : { etag }) };
  });
  if (objects.length === 0 || objects.length > MAX_DELETE_OBJECTS) throw malformed();
  return { quiet: quietText === 'true', objects };
}

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** Tags: at most `maxTags` (10 on objects, 50 on buckets), unique keys, bounded lengths. */
export function parseTagging(body: string | Buffer | undefined, maxTags: number = MAX_OBJECT_TAGS): readonly Tag[] {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'Tagging'));
  if (root['TagSet'] === undefined) throw malformed();
  const tagSet = children(leafOrNode(root['TagSet']));
  const tags = list(tagSet['Tag']).map((node): Tag => {
    const fields = children(node);
    const key = leafText(fields['Key']);
    const value = leafText(fields['Value']);
    if (key === undefined || value === undefined) throw malformed();
    return { key, value };
  });
  if (tags.length > maxTags) throw new S3Error('InvalidTag', `Object tags cannot be greater than ${maxTags}`);
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.key.length === 0 || [...tag.key].length > MAX_TAG_KEY_LENGTH_CHARS) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if ([...tag.value].length > MAX_TAG_VALUE_LENGTH_CHARS) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    if (tag.key.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:');
    if (seen.has(tag.key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(tag.key);
  }
  return tags;
}

function leafOrNode(node: XmlNode | readonly XmlNode[]): XmlNode {
  if (Array.isArray(node)) throw malformed();
  return node as XmlNode;
}

export interface VersioningConfigurationRequest {
  readonly status?: 'Enabled' | 'Suspended';
  readonly mfaDelete?: 'Enabled' | 'Disabled';
}

export function parseVersioningConfiguration(body: string | Buffer | undefined): VersioningConfigurationRequest {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'VersioningConfiguration'));
  const status = leafText(root['Status'])?.trim();
  const mfaDelete = leafText(root['MfaDelete'])?.trim();
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw malformed();
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw malformed();
  return { ...(status ? { status } : {}), ...(mfaDelete ? { mfaDelete } : {}) };
}

export interface AclGrant {
  /** A CanonicalUser grantee's ID. */
  readonly granteeId?: string;
  /** A Group grantee's URI (e.g. AllUsers). */
  readonly granteeUri?: string;
  /** An AmazonCustomerByEmail grantee's address. */
  readonly granteeEmail?: string;
  readonly permission: string;
}

export interface AccessControlPolicyRequest {
  readonly ownerId?: string;
  readonly grants: readonly AclGrant[];
}

/**
 * A PutBucketAcl / PutObjectAcl body. It goes through the same parser, size and depth limits as
 * every other XML body; S3 calls a bad one MalformedACLError rather than MalformedXML.
 */
export function parseAccessControlPolicy(body: string | Buffer): AccessControlPolicyRequest {
  try {
    const root = children(parseRoot(body, 'AccessControlPolicy'));
    const ownerId = root['Owner'] === undefined ? undefined : leafText(children(leafOrNode(root['Owner']))['ID'])?.trim();
    const acl = root['AccessControlList'] === undefined ? {} : children(leafOrNode(root['AccessControlList']));
    const grants = list(acl['Grant']).map((node): AclGrant => {
      const fields = children(node);
      const permission = leafText(fields['Permission'])?.trim();
      if (fields['Grantee'] === undefined || permission === undefined) throw malformed();
      const grantee = children(leafOrNode(fields['Grantee']));
      const granteeId = leafText(grantee['ID'])?.trim();
      const granteeUri = leafText(grantee['URI'])?.trim();
      const granteeEmail = leafText(grantee['EmailAddress'])?.trim();
      return { ...(granteeId !== undefined ? { granteeId } : {}), ...(granteeUri !== undefined ? { granteeUri } : {}), ...(granteeEmail !== undefined ? { granteeEmail } : {}), permission };
    });
    return { ...(ownerId !== undefined ? { ownerId } : {}), grants };
  } catch (error) {
    if (error instanceof S3Error && error.code === 'MalformedXML') throw new S3Error('MalformedACLError');
    throw error;
  }
}

/**
 * A CORSConfiguration body (PutBucketCors) into the shape @cairn/protocol validates: CORSRule
 * elements with ID, AllowedMethod, AllowedOrigin, AllowedHeader, ExposeHeader and MaxAgeSeconds.
 * Only the XML's shape is checked here (unknown elements, a non-integer MaxAgeSeconds:
 * MalformedXML); the rules themselves are validateCorsConfiguration's.
 */
export function parseCorsConfiguration(body: string | Buffer | undefined): { readonly rules: readonly Record<string, unknown>[] } {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'CORSConfiguration'));
  for (const name of Object.keys(root)) if (name !== 'CORSRule' && name !== '#text') throw malformed();
  const rules = list(root['CORSRule']).map((node) => {
    const rule = children(node);
    for (const name of Object.keys(rule)) if (!CORS_RULE_ELEMENTS.has(name)) throw malformed();
    const texts = (name: string) => list(rule[name]).map((n) => (leafText(n) ?? '').trim());
    const ids = texts('ID');
    const maxAges = texts('MaxAgeSeconds');
    if (ids.length > 1 || maxAges.length > 1) throw malformed();
    if (maxAges.length === 1 && !/^\d{1,9}$/.test(maxAges[0])) throw malformed();
    return {
      ...(ids.length === 1 ? { id: ids[0] } : {}),
      allowedMethods: texts('AllowedMethod'),
      allowedOrigins: texts('AllowedOrigin'),
      allowedHeaders: texts('AllowedHeader'),
      exposeHeaders: texts('ExposeHeader'),
      ...(maxAges.length === 1 ? { maxAgeSeconds: Number(maxAges[0]) } : {}),
    };
  });
  return { rules };
}

const CORS_RULE_ELEMENTS: ReadonlySet<string> = new Set(['ID', 'AllowedMethod', 'AllowedOrigin', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds', '#text']);

/** A ServerSideEncryptionConfiguration body (PutBucketEncryption): its one rule's default. */
export function parseServerSideEncryptionConfiguration(body: string | Buffer | undefined): { algorithm: string; kmsKeyId?: string; bucketKeyEnabled?: boolean } {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'ServerSideEncryptionConfiguration'));
  const rules = list(root['Rule']);
  if (rules.length !== 1) throw malformed();
  const rule = children(rules[0]);
  const byDefault = rule['ApplyServerSideEncryptionByDefault'];
  if (byDefault === undefined || Array.isArray(byDefault)) throw malformed();
  const fields = children(byDefault as XmlNode);
  const algorithm = leafText(fields['SSEAlgorithm'])?.trim();
  if (algorithm === undefined) throw malformed();
  const kmsKeyId = leafText(fields['KMSMasterKeyID'])?.trim();
  const bucketKey = leafText(rule['BucketKeyEnabled'])?.trim();
  return { algorithm, ...(kmsKeyId ? { kmsKeyId } : {}), ...(bucketKey === 'true' ? { bucketKeyEnabled: true } : {}) };
}

/** An ObjectLockConfiguration body: ObjectLockEnabled (Enabled) and an optional default retention. */
export function parseObjectLockConfiguration(body: string | Buffer | undefined): { enabled: string | undefined; mode?: string; days?: string; years?: string } {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'ObjectLockConfiguration'));
  const enabled = leafText(root['ObjectLockEnabled'])?.trim();
  const rules = list(root['Rule']);
  if (rules.length === 0) return { enabled };
  if (rules.length > 1) throw malformed();
  const rule = children(rules[0]);
  const retention = rule['DefaultRetention'];
  if (retention === undefined || Array.isArray(retention)) throw malformed();
  const fields = children(retention as XmlNode);
  const mode = leafText(fields['Mode'])?.trim();
  const days = leafText(fields['Days'])?.trim();
  const years = leafText(fields['Years'])?.trim();
  return { enabled, ...(mode !== undefined ? { mode } : {}), ...(days !== undefined ? { days } : {}), ...(years !== undefined ? { years } : {}) };
}

/** A Retention body (PutObjectRetention): Mode and RetainUntilDate, both absent to remove it. */
export function parseObjectRetention(body: string | Buffer | undefined): { mode?: string; retainUntilDate?: string } {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'Retention'));
  const mode = leafText(root['Mode'])?.trim();
  const retainUntilDate = leafText(root['RetainUntilDate'])?.trim();
  return { ...(mode !== undefined ? { mode } : {}), ...(retainUntilDate !== undefined ? { retainUntilDate } : {}) };
}

/** A LegalHold body (PutObjectLegalHold): Status ON or OFF. */
export function parseObjectLegalHold(body: string | Buffer | undefined): { status: string | undefined } {
  if (isBlank(body)) throw malformed();
  const root = children(parseRoot(body as string | Buffer, 'LegalHold'));
  return { status: leafText(root['Status'])?.trim() };
}
