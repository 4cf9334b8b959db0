import { S3_XML_NAMESPACE, XML_DECLARATION, escapeXmlText, optionalElement, s3Timestamp, xmlDocument, xmlElement, xmlNode } from './xml-text';
import { DEFAULT_S3_REGION } from '../auth/sigv4.constants';

export interface OwnerView {
  readonly id: string;
  readonly displayName: string;
}

export interface BucketView {
  readonly name: string;
  readonly creationDate: Date;
  readonly region?: string;
}

export function renderOwner(elementName: 'Owner' | 'Initiator', owner: OwnerView): string {
  return xmlNode(elementName, [xmlElement('ID', owner.id), xmlElement('DisplayName', owner.displayName)]);
}

export function renderListAllMyBucketsResult(owner: OwnerView, buckets: readonly BucketView[], page: { readonly continuationToken?: string; readonly prefix?: string } = {}): string {
  return xmlDocument('ListAllMyBucketsResult', [
    renderOwner('Owner', owner),
    xmlNode(
      'Buckets',
      buckets.map((bucket) =>
        xmlNode('Bucket', [xmlElement('Name', bucket.name), xmlElement('CreationDate', s3Timestamp(bucket.creationDate)), optionalElement('BucketRegion', bucket.region)]),
      ),
    ),
    optionalElement('ContinuationToken', page.continuationToken),
    optionalElement('Prefix', page.prefix),
  ]);
}

/** S3 answers us-east-1 buckets with an empty LocationConstraint. */

export function renderLocationConstraint(region: string): string {
  const root = `<LocationConstraint xmlns="${S3_XML_NAMESPACE}"`;
  if (region === DEFAULT_S3_REGION || region === '') return `${XML_DECLARATION}${root}/>`;
  return `${XML_DECLARATION}${root}>${escapeXmlText(region)}</LocationConstraint>`;
}

export type VersioningStatus = 'Enabled' | 'Suspended';

/** A bucket that never had versioning configured answers with no Status element. */
export function renderVersioningConfiguration(status: VersioningStatus | undefined, mfaDelete?: 'Enabled' | 'Disabled'): string {
  return xmlDocument('VersioningConfiguration', [optionalElement('Status', status), optionalElement('MfaDelete', mfaDelete)]);
}

export interface TagView {
  readonly key: string;
  readonly value: string;
}

export function renderTagging(tags: readonly TagView[]): string {
  return xmlDocument('Tagging', [xmlNode('TagSet', tags.map((tag) => xmlNode('Tag', [xmlElement('Key', tag.key), xmlElement('Value', tag.value)])))]);
}
