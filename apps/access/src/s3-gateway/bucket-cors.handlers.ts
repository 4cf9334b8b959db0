import {
  BucketCorsError,
  CORS_CONFIGURATION_MAX_BYTES,
  corsActualHeaders,
  corsPreflightHeaders,
  isCorsMethod,
  matchCorsRule,
  parseCorsRequestHeaders,
  validateCorsConfiguration,
  type BucketView,
  type CorsConfiguration,
} from '@cairn/protocol';
import type { ServerResponse } from 'node:http';
import { S3Error, parseCorsConfiguration } from '../s3';
import { optionalElement, xmlDocument, xmlElement, xmlNode } from '../s3/xml/xml-text';
import type { GatewayDeps } from './gateway-deps';
import { readSmallBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

/** PutBucketCors reads at most this much; a longer configuration is refused before parsing. */
const CORS_BODY_READ_MAX_BYTES = CORS_CONFIGURATION_MAX_BYTES;

/**
 * Put/Get/DeleteBucketCors and the preflight (OPTIONS on a bucket or object). The configuration is
 * stored by metadata (validated there too) and comes back on the bucket's view, which every
 * request already reads; the gateway adds the matching rule's headers to actual requests
 * (applyCorsHeaders) before it authorizes them, so refusals carry them too, as S3's do.
 */
export class BucketCorsHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly putBucketCors = async (ex: S3Exchange): Promise<void> => {
    // S3 requires an integrity check on this body: Content-MD5 or one of the x-amz-checksum-* forms.
    if (!hasDeclaredDigest(ex)) throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
    const body = await readSmallBody(ex.req, ex.caller, CORS_BODY_READ_MAX_BYTES).catch((error: unknown) => {
      if (error instanceof S3Error && (error.code === 'EntityTooLarge' || error.code === 'MaxMessageLengthExceeded')) {
        throw new S3Error('MalformedXML', `The XML you provided was larger than ${CORS_CONFIGURATION_MAX_BYTES} bytes.`);
      }
      throw error;
    });
    let cors: CorsConfiguration;
    try {
      cors = validateCorsConfiguration(parseCorsConfiguration(body));
    } catch (error) {
      if (error instanceof BucketCorsError) throw new S3Error(error.code, error.message);
      throw error;
    }
    await this.deps.metadata.putBucketCors({ bucket: ex.bucket, cors });
    ex.sendEmpty({}, 200);
  };

  readonly getBucketCors = async (ex: S3Exchange): Promise<void> => {
    const cors = ex.bucketInfo.cors;
    if (cors === undefined) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: ex.bucket });
    ex.sendXml(renderCorsConfiguration(cors));
  };

  readonly deleteBucketCors = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketCors({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };

  /**
   * OPTIONS: unsigned by nature (the gateway sets no caller to check). 400 without Origin or
   * Access-Control-Request-Method; 403 CORSResponse when the bucket has no configuration or no
   * rule allows the origin, method and requested headers; 200 with the rule's headers otherwise.
   */
  readonly preflightCors = async (ex: S3Exchange): Promise<void> => {
    const origin = ex.header('origin');
    if (origin === undefined || origin === '') throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
    const method = ex.header('access-control-request-method');
    if (method === undefined || method === '') throw new S3Error('BadRequest', 'Invalid Access-Control-Request-Method: null');
    const cors = ex.bucketInfo.cors;
    if (cors === undefined) throw new S3Error('CORSResponse', 'CORS is not enabled for this bucket.');
    const request = { origin, method, requestHeaders: parseCorsRequestHeaders(ex.header('access-control-request-headers')) };
    const rule = isCorsMethod(method) ? matchCorsRule(cors, request) : undefined;
    if (rule === undefined) throw new S3Error('CORSResponse');
    ex.sendEmpty(corsPreflightHeaders(rule, request), 200);
  };
}

/**
 * An actual request with an Origin on a bucket with a CORS configuration: the first rule for its
 * origin and method lends its headers to the answer (set on the response now, so whatever answer
 * follows — errors included — carries them).
 */
export function applyCorsHeaders(ex: S3Exchange, view: BucketView, res: ServerResponse): void {
  const origin = ex.header('origin');
  if (origin === undefined || origin === '' || view.cors === undefined) return;
  const request = { origin, method: ex.method };
  const rule = matchCorsRule(view.cors, request);
  if (rule === undefined) return;
  for (const [name, value] of Object.entries(corsActualHeaders(rule, request))) res.setHeader(name, value);
}

/** Content-MD5 or an x-amz-checksum-* (header or trailer): what S3 requires of configuration bodies. */
export function hasDeclaredDigest(ex: S3Exchange): boolean {
  if (ex.header('content-md5') !== undefined) return true;
  if (/x-amz-checksum-/i.test(ex.header('x-amz-trailer') ?? '')) return true;
  return Object.keys(ex.headers).some((name) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm');
}

export function renderCorsConfiguration(cors: CorsConfiguration): string {
  return xmlDocument(
    'CORSConfiguration',
    cors.rules.map((rule) =>
      xmlNode('CORSRule', [
        optionalElement('ID', rule.id),
        ...rule.allowedHeaders.map((h) => xmlElement('AllowedHeader', h)),
        ...rule.allowedMethods.map((m) => xmlElement('AllowedMethod', m)),
        ...rule.allowedOrigins.map((o) => xmlElement('AllowedOrigin', o)),
        ...rule.exposeHeaders.map((h) => xmlElement('ExposeHeader', h)),
        optionalElement('MaxAgeSeconds', rule.maxAgeSeconds),
      ]),
    ),
  );
}
