/**
 * A lean S3 client for benchmarks: SigV4 (UNSIGNED-PAYLOAD) over node:http with keep-alive.
 * The AWS SDK spends ~1.5–1.9 ms of CPU per request (docs/benchmarks.md), which would make the
 * driver, not the server, the bottleneck for small objects.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';

export interface S3Target {
  readonly name: string;
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
}

export interface S3Response {
  readonly status: number;
  readonly bytes: number;
  readonly body: string;
}

const MAX_SOCKETS = 64;
const ERROR_BODY_BYTES = 4096;

function encodePath(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export class LeanS3Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  private readonly url: URL;
  private signingKey: { date: string; key: Buffer } | undefined;

  constructor(readonly target: S3Target) {
    this.url = new URL(target.endpoint);
  }

  close(): void {
    this.agent.destroy();
  }

  /** One request; the body is a Buffer or a stream of `contentLength` bytes. The response body is drained and counted. */
  request(method: string, bucket: string, key: string, body?: Buffer | Readable, contentLength?: number, query = ''): Promise<S3Response> {
    const path = `/${bucket}${key ? `/${encodePath(key)}` : ''}`;
    const headers = this.sign(method, path, query);
    const length = Buffer.isBuffer(body) ? body.length : contentLength;
    if (length !== undefined) headers['content-length'] = String(length);
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, method, path: query ? `${path}?${query}` : path, headers, agent: this.agent },
        (res) => {
          let bytes = 0;
          let text = '';
          res.on('data', (d: Buffer) => {
            bytes += d.length;
            if (text.length < ERROR_BODY_BYTES && (res.statusCode ?? 500) >= 300) text += d.toString('utf8');
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) (body as Readable).pipe(req);
      else req.end();
    });
  }

  private sign(method: string, path: string, query: string): Record<string, string> {
    const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = now.slice(0, 8);
    const host = this.url.host;
    const payload = 'UNSIGNED-PAYLOAD';
    const canonicalQuery = query
      .split('&')
      .filter(Boolean)
      .map((p) => (p.includes('=') ? p : `${p}=`))
      .sort()
      .join('&');
    const signedHeaders = 'host;x-amz-content-sha256;x-amz-date';
    const canonical = [method, path, canonicalQuery, `host:${host}`, `x-amz-content-sha256:${payload}`, `x-amz-date:${now}`, '', signedHeaders, payload].join('\n');
    const scope = `${date}/${this.target.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', now, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    if (this.signingKey?.date !== date) {
      const kDate = createHmac('sha256', `AWS4${this.target.secretKey}`).update(date).digest();
      const kRegion = createHmac('sha256', kDate).update(this.target.region).digest();
      const kService = createHmac('sha256', kRegion).update('s3').digest();
      this.signingKey = { date, key: createHmac('sha256', kService).update('aws4_request').digest() };
    }
    const signature = createHmac('sha256', this.signingKey.key).update(toSign).digest('hex');
    return {
      host,
      'x-amz-date': now,
      'x-amz-content-sha256': payload,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.target.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    };
  }
}
