import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BucketView } from '@cairn/protocol';
import { S3Error, renderS3ErrorXml, type AuthenticatedRequest, type HeaderBag, type PostSignatureFields, type RequestTarget, type S3Route } from '../s3';
import { sendableHeaders } from './object-headers';

const XML_CONTENT_TYPE = 'application/xml';

/** One S3 request on its way through the gateway: what it asked, who asked, and how to answer. */
export class S3Exchange {
  route?: S3Route;
  auth?: AuthenticatedRequest;
  /** The request's bucket, read while authorizing (absent for ListBuckets and CreateBucket). */
  bucketView?: BucketView;
  /** DeleteObjects: whether the caller may delete one of its keys (set by the gateway's authorization). */
  mayDeleteObject?: (key: string, versionId: string | undefined) => boolean;
  /** x-amz-bypass-governance-retention: whether the caller may bypass GOVERNANCE retention on a key (s3:BypassGovernanceRetention). */
  mayBypassGovernance?: (key: string) => boolean;
  /** PostObject: authorizes the form's caller to put `key` (s3:PutObject, as PutObject), once the form has named both. */
  authorizeUpload?: (key: string) => void;
  /** PostObject: checks the form's SigV4 signature over its policy and names the caller. */
  verifyPostSignature?: (form: PostSignatureFields) => Promise<AuthenticatedRequest>;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly hostId: string,
    readonly target: RequestTarget,
  ) {}

  get method(): string {
    return (this.req.method ?? 'GET').toUpperCase();
  }

  get headers(): HeaderBag {
    return this.req.headers as HeaderBag;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return value === undefined ? undefined : Array.isArray(value) ? value[0] : value;
  }

  query(name: string): string | undefined {
    return this.target.query.find((param) => param.name === name)?.value;
  }

  /** The authenticated caller; only handlers run after authentication. */
  get caller(): AuthenticatedRequest {
    if (!this.auth) throw new Error('S3Exchange.caller read before authentication');
    return this.auth;
  }

  get bucket(): string {
    const bucket = this.route?.bucket;
    if (bucket === undefined) throw new Error('S3Exchange.bucket read on a request without a bucket');
    return bucket;
  }

  get bucketInfo(): BucketView {
    if (!this.bucketView) throw new Error('S3Exchange.bucketInfo read before authorization');
    return this.bucketView;
  }

  get key(): string {
    const key = this.route?.key;
    if (key === undefined) throw new Error('S3Exchange.key read on a request without a key');
    return key;
  }

  /** Every answer's status line and headers go out here: no header value can make it throw. */
  writeHead(status: number, headers: Readonly<Record<string, string>>): void {
    this.res.writeHead(status, sendableHeaders(headers));
  }

  sendXml(body: string, headers: Record<string, string> = {}, status = 200): void {
    const bytes = Buffer.from(body, 'utf8');
    this.writeHead(status, { ...headers, 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': String(bytes.length) });
    this.res.end(this.method === 'HEAD' ? undefined : bytes);
  }

  sendEmpty(headers: Record<string, string> = {}, status = 200): void {
    this.writeHead(status, { ...headers, 'Content-Length': '0' });
    this.res.end();
  }

  /** The S3 XML error with this request's id; HEAD and 304 answers carry no body. */
  sendError(error: S3Error, extraHeaders: Record<string, string> = {}): void {
    if (this.res.headersSent) {
      // Mid-body there is no way to say "error" but to cut the response short.
      this.res.destroy(error);
      return;
    }
    const resource = this.target.rawPath;
    if (!error.hasBodyFor(this.method)) {
      this.writeHead(error.httpStatus, extraHeaders);
      this.res.end();
      return;
    }
    const bytes = Buffer.from(renderS3ErrorXml(error, { resource, requestId: this.requestId, hostId: this.hostId }), 'utf8');
    this.writeHead(error.httpStatus, { ...extraHeaders, 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': String(bytes.length) });
    this.res.end(bytes);
  }
}

export type S3Handler = (exchange: S3Exchange) => Promise<void>;
