import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type CORSRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { chromium, type Browser } from 'playwright-core';
import { presignUrl, startS3Stack, type Credentials, type S3Stack, s3Failure as s3Error } from './testing/s3-stack.e2e-helper';

const CHROMIUM_PATH = process.env['CAIRN_CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const chromiumMissing = !existsSync(CHROMIUM_PATH);
if (chromiumMissing) console.warn(`bucket CORS browser check SKIPPED: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CAIRN_CHROMIUM_PATH)`);
const itInBrowser = chromiumMissing ? it.skip : it;


const APP_ORIGIN = 'https://app.example.com';

/** Bucket CORS end to end: the AWS SDK, raw preflights and presigned requests, and a real browser, against a region of real processes. */
describe('bucket CORS (e2e)', () => {
  let stack: S3Stack;
  let alice: Credentials;
  let asAlice: S3Client;
  let asBob: S3Client;
  const bucket = 'cors-e2e';
  const plain = 'cors-e2e-none';

  const rules: CORSRule[] = [
    { ID: 'app', AllowedOrigins: [APP_ORIGIN], AllowedMethods: ['GET', 'PUT', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'x-amz-request-id'], MaxAgeSeconds: 600 },
    { ID: 'partners', AllowedOrigins: ['https://*.partner.test'], AllowedMethods: ['GET'], AllowedHeaders: ['x-amz-*'] },
  ];

  const preflight = (path: string, headers: Record<string, string>) => fetch(`${stack.endpoint}${path}`, { method: 'OPTIONS', headers });

  beforeAll(async () => {
    stack = await startS3Stack();
    alice = await stack.createAccessKey('cors-alice');
    asAlice = stack.client(alice);
    asBob = stack.client(await stack.createAccessKey('cors-bob'));
    await asAlice.send(new CreateBucketCommand({ Bucket: bucket }));
    await asAlice.send(new CreateBucketCommand({ Bucket: plain }));
    await asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello, browser' }));
    await asAlice.send(new PutObjectCommand({ Bucket: plain, Key: 'hello.txt', Body: 'no cors here' }));
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('puts, gets and deletes a CORS configuration (NoSuchCORSConfiguration without one)', async () => {
    expect(await s3Error(asAlice.send(new GetBucketCorsCommand({ Bucket: bucket })))).toMatchObject({ name: 'NoSuchCORSConfiguration', status: 404 });
    await asAlice.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
    expect((await asAlice.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules).toEqual(rules);
    await asAlice.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    expect(await s3Error(asAlice.send(new GetBucketCorsCommand({ Bucket: bucket })))).toMatchObject({ name: 'NoSuchCORSConfiguration', status: 404 });
    await asAlice.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
  });

  it('refuses a malformed configuration with S3 codes and messages, and anyone but the owner', async () => {
    expect(await s3Error(asAlice.send(new PutBucketCorsCommand({ Bucket: plain, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] } })))).toEqual({
      name: 'InvalidRequest',
      status: 400,
      message: 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH',
    });
    expect(await s3Error(asAlice.send(new PutBucketCorsCommand({ Bucket: plain, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://*.*.com'], AllowedMethods: ['GET'] }] } })))).toMatchObject({
      name: 'InvalidRequest',
      message: 'AllowedOrigin "http://*.*.com" can not have more than one wildcard.',
    });
    expect(await s3Error(asAlice.send(new PutBucketCorsCommand({ Bucket: plain, CORSConfiguration: { CORSRules: [] } })))).toMatchObject({ name: 'MalformedXML', status: 400 });
    expect(await s3Error(asAlice.send(new PutBucketCorsCommand({ Bucket: plain, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: [] }] } })))).toMatchObject({ name: 'MalformedXML' });
    expect(await s3Error(asBob.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } })))).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(asAlice.send(new GetBucketCorsCommand({ Bucket: plain })))).toMatchObject({ name: 'NoSuchCORSConfiguration' });
    // Unsigned, so anonymous: refused (no policy lets anyone in).
    expect((await fetch(`${stack.endpoint}/${bucket}?cors`)).status).toBe(403);

    // S3 requires the body's integrity to be declared: without Content-MD5 (or a checksum) it is refused; a wrong one is BadDigest.
    const xml = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    const putCors = await presignUrl(stack.endpoint, alice, 'PUT', `/${plain}`, { query: { cors: '' } });
    const bare = await fetch(putCors, { method: 'PUT', body: xml });
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain('Missing required header for this request: Content-MD5');
    const wrong = await fetch(putCors, { method: 'PUT', body: xml, headers: { 'Content-MD5': createHash('md5').update('other').digest('base64') } });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('<Code>BadDigest</Code>');
    const right = await fetch(putCors, { method: 'PUT', body: xml, headers: { 'Content-MD5': createHash('md5').update(xml).digest('base64') } });
    expect(right.status).toBe(200);
    await asAlice.send(new DeleteBucketCorsCommand({ Bucket: plain }));
  });

  it('answers preflights: allowed with the rule headers, refused with 403 CORSResponse, 400 without Origin or method', async () => {
    const ok = await preflight(`/${bucket}/hello.txt`, { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'Content-Type, X-Amz-Meta-A' });
    expect(ok.status).toBe(200);
    expect(Object.fromEntries([...ok.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'))).toEqual({
      'access-control-allow-origin': APP_ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT, HEAD',
      'access-control-allow-headers': 'content-type, x-amz-meta-a',
      'access-control-expose-headers': 'ETag, x-amz-request-id',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    });
    // On the bucket too, and by the second rule (wildcard origin, header wildcard).
    const partner = await preflight(`/${bucket}`, { Origin: 'https://shop.partner.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-amz-date' });
    expect(partner.status).toBe(200);
    expect(partner.headers.get('access-control-allow-origin')).toBe('https://shop.partner.test');
    expect(partner.headers.get('access-control-max-age')).toBeNull();

    for (const headers of <Record<string, string>[]>[
      { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'GET' },
      { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'DELETE' },
      { Origin: 'https://shop.partner.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'content-type' },
      { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'PATCH' },
    ]) {
      const refused = await preflight(`/${bucket}/hello.txt`, headers);
      expect(refused.status).toBe(403);
      const body = await refused.text();
      expect(body).toContain('<Code>CORSResponse</Code>');
      expect(body).toContain('This CORS request is not allowed.');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
    const noConfig = await preflight(`/${plain}/hello.txt`, { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET' });
    expect(noConfig.status).toBe(403);
    expect(await noConfig.text()).toContain('CORS is not enabled for this bucket.');
    const noOrigin = await preflight(`/${bucket}/hello.txt`, { 'Access-Control-Request-Method': 'GET' });
    expect(noOrigin.status).toBe(400);
    expect(await noOrigin.text()).toContain('<Code>BadRequest</Code>');
    expect((await preflight(`/${bucket}/hello.txt`, { Origin: APP_ORIGIN })).status).toBe(400);
    expect((await preflight('/no-such-cors-bucket/k', { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET' })).status).toBe(404);

    // The service's own paths are still Nest's, never an S3 answer.
    const health = await fetch(`${stack.endpoint}/health`, { method: 'OPTIONS', headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET' } });
    expect(health.headers.get('x-amz-request-id')).toBeNull();
    expect((await fetch(`${stack.endpoint}/health`)).status).toBe(200);
  });

  it('adds the rule headers to actual requests with an Origin: presigned GET and PUT, refusals too; none for other origins', async () => {
    const getUrl = await presignUrl(stack.endpoint, alice, 'GET', `/${bucket}/hello.txt`);
    const got = await fetch(getUrl, { headers: { Origin: APP_ORIGIN } });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('hello, browser');
    expect(got.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(got.headers.get('access-control-expose-headers')).toBe('ETag, x-amz-request-id');
    expect(got.headers.get('vary')).toContain('Origin');

    const putUrl = await presignUrl(stack.endpoint, alice, 'PUT', `/${bucket}/uploaded.txt`);
    const put = await fetch(putUrl, { method: 'PUT', body: 'from a browser origin', headers: { Origin: APP_ORIGIN } });
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);

    const elsewhere = await fetch(getUrl, { headers: { Origin: 'https://evil.test' } });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    const withoutOrigin = await fetch(getUrl);
    expect(withoutOrigin.headers.get('access-control-allow-origin')).toBeNull();

    // An anonymous GET is refused (no policy), and the refusal still carries the CORS headers, as S3's do.
    const anonymous = await fetch(`${stack.endpoint}/${bucket}/hello.txt`, { headers: { Origin: APP_ORIGIN } });
    expect(anonymous.status).toBe(403);
    expect(anonymous.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    // A bucket without a configuration adds nothing.
    const noConfig = await fetch(await presignUrl(stack.endpoint, alice, 'GET', `/${plain}/hello.txt`), { headers: { Origin: APP_ORIGIN } });
    expect(noConfig.status).toBe(200);
    expect(noConfig.headers.get('access-control-allow-origin')).toBeNull();
  });

  itInBrowser(
    'a page on another origin PUTs and GETs through presigned URLs in Chromium: allowed by a rule for its origin, blocked without',
    async () => {
      const page = `<!doctype html><html><body>cors check</body></html>`;
      const server: Server = createServer((_, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(page);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
        const tab = await browser.newPage();
        await tab.goto(origin);
        const roundTrip = async (key: string) => {
          const putUrl = await presignUrl(stack.endpoint, alice, 'PUT', `/${bucket}/${key}`);
          const getUrl = await presignUrl(stack.endpoint, alice, 'GET', `/${bucket}/${key}`);
          return tab.evaluate(
            async ({ putUrl, getUrl }) => {
              try {
                const put = await fetch(putUrl, { method: 'PUT', body: 'written by the browser', headers: { 'Content-Type': 'text/plain' } });
                if (!put.ok) return `PUT ${put.status}`;
                const got = await fetch(getUrl);
                return `${got.status} ${await got.text()} etag=${got.headers.get('ETag') !== null}`;
              } catch (error) {
                return `blocked: ${String(error)}`;
              }
            },
            { putUrl, getUrl },
          );
        };

        await asAlice.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }] } }));
        expect(await roundTrip('browser/allowed.txt')).toBe('200 written by the browser etag=true');

        await asAlice.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
        expect(await roundTrip('browser/refused.txt')).toMatch(/^blocked: TypeError/);
      } finally {
        await browser?.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
    60_000,
  );
});
