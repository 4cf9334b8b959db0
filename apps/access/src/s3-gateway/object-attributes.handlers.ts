import { S3Error, quoteEtag } from '../s3';
import { xmlDocument, xmlElement, xmlNode, optionalElement } from '../s3/xml/xml-text';
import { checksumTypeOf, checksumValuesOf, httpDate, versionIdHeader } from './object-headers';
import type { GatewayDeps } from './gateway-deps';
import type { S3Exchange } from './s3-exchange';

/** What x-amz-object-attributes may name. */
const OBJECT_ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type ObjectAttribute = (typeof OBJECT_ATTRIBUTES)[number];
const DEFAULT_MAX_PARTS = 1000;
const MAX_PART_NUMBER = 10_000;

/**
 * GetObjectAttributes (GET ?attributes): the attributes x-amz-object-attributes names, from the
 * version's metadata alone (no bytes read). ObjectParts lists a multipart object's part sizes
 * (x-amz-max-parts, x-amz-part-number-marker page them); an object not uploaded in parts has none.
 */
export class ObjectAttributesHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly getObjectAttributes = async (ex: S3Exchange): Promise<void> => {
    const wanted = requestedAttributes(ex.header('x-amz-object-attributes'));
    const maxParts = boundedInteger(ex.header('x-amz-max-parts'), 'x-amz-max-parts', 0, DEFAULT_MAX_PARTS) ?? DEFAULT_MAX_PARTS;
    const marker = boundedInteger(ex.header('x-amz-part-number-marker'), 'x-amz-part-number-marker', 0, MAX_PART_NUMBER) ?? 0;
    const versionId = ex.route?.versionId;
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...(versionId !== undefined ? { versionId } : {}) });
    const has = (name: ObjectAttribute) => wanted.has(name);
    const checksums = checksumValuesOf(view.checksums);
    const checksumElements = Object.entries(checksums).map(([algorithm, value]) => xmlElement(`Checksum${algorithm}`, value));
    const type = checksumTypeOf(view.checksums);
    const parts = view.partSizes ?? [];
    const page = parts.map((size, i) => ({ partNumber: i + 1, size })).filter((p) => p.partNumber > marker).slice(0, maxParts);
    const truncated = parts.length > 0 && page.length > 0 && page[page.length - 1].partNumber < parts.length;
    ex.sendXml(
      xmlDocument('GetObjectAttributesResponse', [
        has('ETag') ? xmlElement('ETag', quoteEtag(view.etag ?? '').replace(/"/g, '')) : undefined,
        has('Checksum') && checksumElements.length > 0 ? xmlNode('Checksum', [...checksumElements, optionalElement('ChecksumType', type)]) : undefined,
        has('ObjectParts') && parts.length > 0
          ? xmlNode('ObjectParts', [
              // S3's element is PartsCount (the SDKs call it TotalPartsCount).
              xmlElement('PartsCount', String(parts.length)),
              xmlElement('PartNumberMarker', String(marker)),
              optionalElement('NextPartNumberMarker', page.length > 0 ? page[page.length - 1].partNumber : undefined),
              xmlElement('MaxParts', String(maxParts)),
              xmlElement('IsTruncated', String(truncated)),
              ...page.map((p) => xmlNode('Part', [xmlElement('PartNumber', String(p.partNumber)), xmlElement('Size', String(p.size))])),
            ])
          : undefined,
        has('StorageClass') ? xmlElement('StorageClass', view.storageClass ?? 'STANDARD') : undefined,
        has('ObjectSize') ? xmlElement('ObjectSize', String(view.sizeBytes)) : undefined,
      ]),
      { 'Last-Modified': httpDate(view.lastModified), ...versionIdHeader(ex.bucketInfo.versioning, view.versionId) },
    );
  };
}

function requestedAttributes(header: string | undefined): ReadonlySet<ObjectAttribute> {
  const names = (header ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes' });
  for (const name of names) {
    if (!(OBJECT_ATTRIBUTES as readonly string[]).includes(name)) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: name });
  }
  return new Set(names as ObjectAttribute[]);
}

function boundedInteger(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text) || Number(text) < min || Number(text) > max) throw new S3Error('InvalidArgument', `${name} must be an integer from ${min} to ${max}.`, { ArgumentName: name, ArgumentValue: text });
  return Number(text);
}
