import { BucketLifecycleError, LIFECYCLE_CONFIGURATION_MAX_BYTES, validateLifecycleConfiguration, type LifecycleConfiguration, type LifecycleRule } from '@cairn/protocol';
import { S3Error } from '../s3';
import { parseLifecycleConfiguration } from '../s3/xml/lifecycle-configuration.parser';
import { optionalElement, xmlDocument, xmlElement, xmlNode } from '../s3/xml/xml-text';
import { hasDeclaredDigest } from './bucket-cors.handlers';
import type { GatewayDeps } from './gateway-deps';
import { readSmallBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

/**
 * Put/Get/DeleteBucketLifecycleConfiguration. The configuration is stored by metadata as a bucket
 * event (validated there too, replicated like the bucket's other settings) and comes back on the
 * bucket's view; the scheduler's lifecycle pass carries it out (docs/lifecycle.md).
 */
export class BucketLifecycleHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly putBucketLifecycle = async (ex: S3Exchange): Promise<void> => {
    // S3 requires an integrity check on this body: Content-MD5 or one of the x-amz-checksum-* forms.
    if (!hasDeclaredDigest(ex)) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
    const body = await readSmallBody(ex.req, ex.caller, LIFECYCLE_CONFIGURATION_MAX_BYTES).catch((error: unknown) => {
      if (error instanceof S3Error && (error.code === 'EntityTooLarge' || error.code === 'MaxMessageLengthExceeded')) {
        throw new S3Error('MalformedXML', 'The XML you provided was too large.');
      }
      throw error;
    });
    let lifecycle: LifecycleConfiguration;
    try {
      lifecycle = validateLifecycleConfiguration(parseLifecycleConfiguration(body));
    } catch (error) {
      if (error instanceof BucketLifecycleError) throw new S3Error(error.code, error.message);
      throw error;
    }
    await this.deps.metadata.putBucketLifecycle({ bucket: ex.bucket, lifecycle });
    ex.sendEmpty({}, 200);
  };

  readonly getBucketLifecycle = async (ex: S3Exchange): Promise<void> => {
    const lifecycle = ex.bucketInfo.lifecycle;
    if (lifecycle === undefined) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: ex.bucket });
    ex.sendXml(renderLifecycleConfiguration(lifecycle));
  };

  readonly deleteBucketLifecycle = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketLifecycle({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };
}

const tagXml = (t: { key: string; value: string }) => xmlNode('Tag', [xmlElement('Key', t.key), xmlElement('Value', t.value)]);

function filterXml(rule: LifecycleRule): string | undefined {
  if (rule.filter === undefined) return rule.prefix !== undefined ? xmlElement('Prefix', rule.prefix) : undefined;
  const f = rule.filter;
  const and = f.and;
  return xmlNode('Filter', [
    optionalElement('Prefix', f.prefix),
    f.tag !== undefined ? tagXml(f.tag) : undefined,
    optionalElement('ObjectSizeGreaterThan', f.objectSizeGreaterThan),
    optionalElement('ObjectSizeLessThan', f.objectSizeLessThan),
    and !== undefined
      ? xmlNode('And', [optionalElement('Prefix', and.prefix), ...and.tags.map(tagXml), optionalElement('ObjectSizeGreaterThan', and.objectSizeGreaterThan), optionalElement('ObjectSizeLessThan', and.objectSizeLessThan)])
      : undefined,
  ]);
}

/** The configuration as GetBucketLifecycleConfiguration answers it (S3's element order). */
export function renderLifecycleConfiguration(lifecycle: LifecycleConfiguration): string {
  return xmlDocument(
    'LifecycleConfiguration',
    lifecycle.rules.map((rule) => {
      const e = rule.expiration;
      const n = rule.noncurrentVersionExpiration;
      return xmlNode('Rule', [
        optionalElement('ID', rule.id),
        filterXml(rule),
        xmlElement('Status', rule.status),
        ...rule.transitions.map((t) => xmlNode('Transition', [optionalElement('Date', t.date), optionalElement('Days', t.days), xmlElement('StorageClass', t.storageClass)])),
        e !== undefined ? xmlNode('Expiration', [optionalElement('Date', e.date), optionalElement('Days', e.days), optionalElement('ExpiredObjectDeleteMarker', e.expiredObjectDeleteMarker)]) : undefined,
        ...rule.noncurrentVersionTransitions.map((t) =>
          xmlNode('NoncurrentVersionTransition', [optionalElement('NoncurrentDays', t.noncurrentDays), xmlElement('StorageClass', t.storageClass), optionalElement('NewerNoncurrentVersions', t.newerNoncurrentVersions)]),
        ),
        n !== undefined ? xmlNode('NoncurrentVersionExpiration', [optionalElement('NoncurrentDays', n.noncurrentDays), optionalElement('NewerNoncurrentVersions', n.newerNoncurrentVersions)]) : undefined,
        rule.abortIncompleteMultipartUpload !== undefined
          ? xmlNode('AbortIncompleteMultipartUpload', [xmlElement('DaysAfterInitiation', String(rule.abortIncompleteMultipartUpload.daysAfterInitiation))])
          : undefined,
      ]);
    }),
  );
}
