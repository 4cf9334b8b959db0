import { S3Error } from '../errors/s3.errors';
import { children, isBlank, leafText, list, parseRoot, type XmlNode } from './request-bodies.parser';

/**
 * PutBucketLifecycleConfiguration's body as plain data for validateLifecycleConfiguration
 * (libs/protocol): the shape is checked here (which elements, how many, numbers and booleans),
 * S3's semantic rules there. Anything that does not fit S3's schema is MalformedXML.
 */

type Element = XmlNode | readonly XmlNode[] | undefined;
type Fields = Readonly<Record<string, Element>>;

const RULE_ELEMENTS: ReadonlySet<string> = new Set([
  'ID',
  'Status',
  'Prefix',
  'Filter',
  'Expiration',
  'Transition',
  'NoncurrentVersionExpiration',
  'NoncurrentVersionTransition',
  'AbortIncompleteMultipartUpload',
  '#text',
]);
const FILTER_ELEMENTS: ReadonlySet<string> = new Set(['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And', '#text']);
const AND_ELEMENTS: ReadonlySet<string> = new Set(['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', '#text']);
const INTEGER_PATTERN = /^-?\d{1,15}$/;

const malformed = () => new S3Error('MalformedXML');

function fieldsOf(node: Element, allowed: ReadonlySet<string>): Fields {
  if (node === undefined || Array.isArray(node)) throw malformed();
  const fields = children(node as XmlNode);
  for (const name of Object.keys(fields)) if (!allowed.has(name)) throw malformed();
  return fields;
}

/** A leaf's text, at most once; absent → undefined. */
function text(fields: Fields, name: string): string | undefined {
  const node = fields[name];
  if (node === undefined) return undefined;
  if (Array.isArray(node)) {
    if (node.length !== 1) throw malformed();
    return leafText(node[0]);
  }
  return leafText(node);
}

function integer(fields: Fields, name: string): number | undefined {
  const value = text(fields, name)?.trim();
  if (value === undefined) return undefined;
  if (!INTEGER_PATTERN.test(value)) throw malformed();
  return Number(value);
}

function tagOf(node: XmlNode): { key: string; value: string } {
  const t = fieldsOf(node, new Set(['Key', 'Value', '#text']));
  const key = text(t, 'Key');
  if (key === undefined) throw malformed();
  return { key, value: text(t, 'Value') ?? '' };
}

function sizes(fields: Fields): Record<string, number> {
  const gt = integer(fields, 'ObjectSizeGreaterThan');
  const lt = integer(fields, 'ObjectSizeLessThan');
  return { ...(gt !== undefined ? { objectSizeGreaterThan: gt } : {}), ...(lt !== undefined ? { objectSizeLessThan: lt } : {}) };
}

function filterOf(node: Element): Record<string, unknown> {
  const f = fieldsOf(node, FILTER_ELEMENTS);
  const tags = list(f['Tag']);
  if (tags.length > 1) throw malformed();
  const prefix = text(f, 'Prefix');
  const and = f['And'] !== undefined ? fieldsOf(f['And'], AND_ELEMENTS) : undefined;
  const andPrefix = and !== undefined ? text(and, 'Prefix') : undefined;
  return {
    ...(prefix !== undefined ? { prefix } : {}),
    ...(tags.length === 1 ? { tag: tagOf(tags[0]) } : {}),
    ...sizes(f),
    ...(and !== undefined ? { and: { ...(andPrefix !== undefined ? { prefix: andPrefix } : {}), tags: list(and['Tag']).map(tagOf), ...sizes(and) } } : {}),
  };
}

function expirationOf(node: Element): Record<string, unknown> {
  const e = fieldsOf(node, new Set(['Days', 'Date', 'ExpiredObjectDeleteMarker', '#text']));
  const days = integer(e, 'Days');
  const date = text(e, 'Date')?.trim();
  const marker = text(e, 'ExpiredObjectDeleteMarker')?.trim();
  if (marker !== undefined && marker !== 'true' && marker !== 'false') throw malformed();
  return {
    ...(days !== undefined ? { days } : {}),
    ...(date !== undefined ? { date } : {}),
    ...(marker !== undefined ? { expiredObjectDeleteMarker: marker === 'true' } : {}),
  };
}

function transitionOf(node: XmlNode): Record<string, unknown> {
  const t = fieldsOf(node, new Set(['Days', 'Date', 'StorageClass', '#text']));
  const days = integer(t, 'Days');
  const date = text(t, 'Date')?.trim();
  return { ...(days !== undefined ? { days } : {}), ...(date !== undefined ? { date } : {}), storageClass: text(t, 'StorageClass')?.trim() };
}

function noncurrentOf(node: XmlNode, withClass: boolean): Record<string, unknown> {
  const n = fieldsOf(node, new Set(['NoncurrentDays', 'NewerNoncurrentVersions', ...(withClass ? ['StorageClass'] : []), '#text']));
  const days = integer(n, 'NoncurrentDays');
  const newer = integer(n, 'NewerNoncurrentVersions');
  return {
    ...(days !== undefined ? { noncurrentDays: days } : {}),
    ...(newer !== undefined ? { newerNoncurrentVersions: newer } : {}),
    ...(withClass ? { storageClass: text(n, 'StorageClass')?.trim() } : {}),
  };
}

function single(fields: Fields, name: string): XmlNode | undefined {
  const node = fields[name];
  if (node === undefined) return undefined;
  if (Array.isArray(node)) {
    if (node.length !== 1) throw malformed();
    return node[0];
  }
  return node as XmlNode;
}

export function parseLifecycleConfiguration(body: string | Buffer | undefined): { readonly rules: readonly Record<string, unknown>[] } {
  if (isBlank(body)) throw malformed();
  const root = fieldsOf(parseRoot(body as string | Buffer, 'LifecycleConfiguration'), new Set(['Rule', '#text']));
  const rules = list(root['Rule']).map((node) => {
    const r = fieldsOf(node, RULE_ELEMENTS);
    const id = text(r, 'ID');
    const status = text(r, 'Status')?.trim();
    const prefix = text(r, 'Prefix');
    const filter = single(r, 'Filter');
    const expiration = single(r, 'Expiration');
    const noncurrentExpiration = single(r, 'NoncurrentVersionExpiration');
    const abort = single(r, 'AbortIncompleteMultipartUpload');
    const abortDays = abort !== undefined ? integer(fieldsOf(abort, new Set(['DaysAfterInitiation', '#text'])), 'DaysAfterInitiation') : undefined;
    return {
      ...(id !== undefined ? { id } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(filter !== undefined ? { filter: filterOf(filter) } : {}),
      ...(expiration !== undefined ? { expiration: expirationOf(expiration) } : {}),
      transitions: list(r['Transition']).map(transitionOf),
      ...(noncurrentExpiration !== undefined ? { noncurrentVersionExpiration: noncurrentOf(noncurrentExpiration, false) } : {}),
      noncurrentVersionTransitions: list(r['NoncurrentVersionTransition']).map((n) => noncurrentOf(n, true)),
      ...(abort !== undefined ? { abortIncompleteMultipartUpload: abortDays !== undefined ? { daysAfterInitiation: abortDays } : {} } : {}),
    };
  });
  return { rules };
}
