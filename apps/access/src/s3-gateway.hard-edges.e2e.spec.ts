import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListBucketsCommand, PutBucketTaggingCommand, PutObjectCommand, S3ServiceException, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { MAX_REQUEST_HEADERS } from '@cairn/service-kit';
import { startServiceProcess, type ServiceProcess } from '@cairn/testing';
import { MAX_XML_BODY_BYTES } from './s3/xml/request-bodies.parser';
import { E2E_REGION, presignUrl, startS3Stack, type S3Stack } from './testing/s3-stack.e2e-helper';

const { ensureDevCertificate } = require('../../../tools/dev-stack/dev-tls') as { ensureDevCertificate: (dir: string) => { caFile: string; certFile: string; keyFile: string } };

const MiB = 1024 * 1024;
/** Far past the XML depth limit and past fast-xml-parser's own default (100), which used to throw a plain Error. */
const DEEP_NESTING = 150;
const LOG_SETTLE_MS = 500;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * One request with node:http (which, unlike fetch, sends header lists as given and any header
 * count); resolves on the answer even when the gateway answers before taking the whole body.
 */
function send(url: string, method: string, headers: OutgoingHttpHeaders | readonly string[] = {}, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: headers as OutgoingHttpHeaders });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += String(d)));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', (error) => {
      // Writing the rest of a body the gateway already refused may fail; the answer has come.
      if (!req.destroyed || (error as NodeJS.ErrnoException).code !== 'EPIPE') reject(error);
    });
    req.end(body);
  });
}

function xmlCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}

async function s3Failure(call: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof S3ServiceException) return { code: error.name, status: error.$metadata.httpStatusCode ?? 0 };
    throw error;
  }
  throw new Error('expected the call to fail');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the S3 gateway at its hard edges (issue 12, findings 3-7)', () => {
  let stack: S3Stack;
  let s3: S3Client;
  const bucket = `edges-${randomBytes(4).toString('hex')}`;
  const presign = (method: string, path: string, query: Record<string, string> = {}, region?: string) =>
    presignUrl(stack.endpoint, stack.root, method, path, { query, ...(region ? { region } : {}) });

  beforeAll(async () => {
    stack = await startS3Stack();
    s3 = stack.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'original' }));
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await stack?.stop();
  }, 60_000);

  describe('owner names (finding 3)', () => {
    it.each(['Root', ' root', 'root\u0000', 'r00t', 'Alice'])('metadata refuses to mint a key for the owner %j over RPC (InvalidArgument)', async (owner) => {
      await expect(stack.createAccessKey(owner)).rejects.toMatchObject({ code: 'InvalidArgument' });
    });

    it('still mints keys for canonical owner names', async () => {
      await expect(stack.createAccessKey('team.media-2')).resolves.toMatchObject({ accessKeyId: expect.any(String) });
    });
  });

  describe('operator tokens for the root key (admin authentication)', () => {
    it('trades a root SigV4 signature for an operator token that the admin APIs take, and refuses anyone else', async () => {
      const issued = await send(await presign('POST', '/_cairn/admin/tokens', { role: 'read-only', label: 'dashboard', ttlSeconds: '600' }), 'POST');
      expect(issued.status).toBe(200);
      const reply = JSON.parse(issued.body) as { token: string; role: string; label: string; expiresAt: string };
      expect(reply).toMatchObject({ role: 'read-only', label: 'dashboard' });
      expect(Date.parse(reply.expiresAt) - Date.now()).toBeGreaterThan(500_000);
      // The token opens what a read-only operator may see (here, the gateway's metrics), nothing more.
      expect((await send(`${stack.endpoint}/metrics`, 'GET', { authorization: `Bearer ${reply.token}` })).status).toBe(200);
      expect((await send(`${stack.endpoint}/metrics`, 'GET')).status).toBe(401);
      // Not for an unsigned caller, another user's key, a wrong role or a GET.
      expect(xmlCode((await send(`${stack.endpoint}/_cairn/admin/tokens?role=admin`, 'POST')).body)).toBe('AccessDenied');
      const alice = await stack.createAccessKey('token-seeker');
      const asAlice = await presignUrl(stack.endpoint, { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey }, 'POST', '/_cairn/admin/tokens', { query: { role: 'admin' } });
      expect(await send(asAlice, 'POST')).toMatchObject({ status: 403 });
      expect(xmlCode((await send(await presign('POST', '/_cairn/admin/tokens', { role: 'superuser' }), 'POST')).body)).toBe('InvalidArgument');
      expect((await send(await presign('GET', '/_cairn/admin/tokens'), 'GET')).status).toBe(405);
    });
  });

  describe('HTTPS for the S3 endpoint', () => {
    it('serves S3 over TLS with a configured certificate, to a client that trusts its CA', async () => {
      const tlsDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-tls-'));
      try {
        const { caFile, certFile, keyFile } = ensureDevCertificate(tlsDir);
        const gateway = await stack.startGateway({ CAIRN_TLS_CERT_FILE: certFile, CAIRN_TLS_KEY_FILE: keyFile });
        expect(gateway.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const trusting = gateway.client(stack.root, { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: await fsp.readFile(caFile) }) }) });
        try {
          await trusting.send(new PutObjectCommand({ Bucket: bucket, Key: 'over-tls', Body: 'sealed in transit' }));
          const got = await trusting.send(new GetObjectCommand({ Bucket: bucket, Key: 'over-tls' }));
          expect(await got.Body!.transformToString()).toBe('sealed in transit');
        } finally {
          trusting.destroy();
        }
        // A client that does not trust the CA refuses the connection; plain HTTP is not answered as S3.
        const doubting = gateway.client(stack.root, { maxAttempts: 1 });
        try {
          await expect(doubting.send(new ListBucketsCommand({}))).rejects.toThrow(/certificate/i);
        } finally {
          doubting.destroy();
        }
        await expect(send(gateway.endpoint.replace('https:', 'http:') + '/', 'GET')).rejects.toThrow();
      } finally {
        await fsp.rm(tlsDir, { recursive: true, force: true });
      }
    });
  });

  describe('credential scope region (finding 4)', () => {
    it("refuses a header signature scoped to another region with AuthorizationHeaderMalformed, naming the gateway's region", async () => {
      const elsewhere = stack.client(stack.root, { region: 'eu-west-1', maxAttempts: 1 });
      try {
        expect(await s3Failure(elsewhere.send(new ListBucketsCommand({})))).toEqual({ code: 'AuthorizationHeaderMalformed', status: 400 });
      } finally {
        elsewhere.destroy();
      }
      // The body as S3 words it, with the Region element.
      const url = await presign('GET', `/${bucket}/k`);
      const signedElsewhere = await presign('GET', `/${bucket}/k`, {}, 'eu-west-1');
      expect((await send(url, 'GET')).status).toBe(200);
      const refused = await send(signedElsewhere, 'GET');
      expect(refused.status).toBe(400);
      expect(xmlCode(refused.body)).toBe('AuthorizationQueryParametersError');
      expect(refused.body.replace(/&apos;/g, "'")).toContain(`the region 'eu-west-1' is wrong; expecting '${E2E_REGION}'`);
      expect(refused.body).toContain(`<Region>${E2E_REGION}</Region>`);
    });
  });

  describe('XML bodies past the depth or size limit (finding 5)', () => {
    let uploadId: string;
    beforeAll(async () => {
      uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }))).UploadId!;
    });

    /** [operation, the code S3 answers, method, path after the bucket, query, root element] */
    const endpoints: ReadonlyArray<readonly [string, string, string, string, () => Record<string, string>, string]> = [
      ['DeleteObjects', 'MalformedXML', 'POST', '', () => ({ delete: '' }), 'Delete'],
      ['CompleteMultipartUpload', 'MalformedXML', 'POST', '/mpu', () => ({ uploadId }), 'CompleteMultipartUpload'],
      ['PutBucketVersioning', 'MalformedXML', 'PUT', '', () => ({ versioning: '' }), 'VersioningConfiguration'],
      ['PutBucketTagging', 'MalformedXML', 'PUT', '', () => ({ tagging: '' }), 'Tagging'],
      ['PutObjectTagging', 'MalformedXML', 'PUT', '/k', () => ({ tagging: '' }), 'Tagging'],
      ['PutBucketAcl', 'MalformedACLError', 'PUT', '', () => ({ acl: '' }), 'AccessControlPolicy'],
      ['PutObjectAcl', 'MalformedACLError', 'PUT', '/k', () => ({ acl: '' }), 'AccessControlPolicy'],
      ['CreateBucket', 'MalformedXML', 'PUT', '', () => ({}), 'CreateBucketConfiguration'],
    ];
    const pathOf = (root: string, keyPath: string) => (root === 'CreateBucketConfiguration' ? `/new-${randomBytes(4).toString('hex')}` : `/${bucket}${keyPath}`);

    it.each(endpoints)(`%s answers a body nested ${DEEP_NESTING} deep with 400 %s, never 500`, async (_name, code, method, keyPath, query, root) => {
      const deep = `<${root}>${'<a>'.repeat(DEEP_NESTING)}x${'</a>'.repeat(DEEP_NESTING)}</${root}>`;
      const answer = await send(await presign(method, pathOf(root, keyPath), query()), method, {}, deep);
      expect({ status: answer.status, code: xmlCode(answer.body) }).toEqual({ status: 400, code });
    });

    it.each(endpoints)('%s answers a body over MAX_XML_BODY_BYTES with 400 %s', async (_name, code, method, keyPath, query, root) => {
      const big = `<${root}>${' '.repeat(MAX_XML_BODY_BYTES)}</${root}>`;
      const answer = await send(await presign(method, pathOf(root, keyPath), query()), method, {}, big);
      expect({ status: answer.status, code: xmlCode(answer.body) }).toEqual({ status: 400, code });
    });
  });

  describe('response-* overrides and echoed header values (finding 5)', () => {
    it.each([
      ['CR/LF', 'response-content-type', 'text/plain\r\nSet-Cookie: stolen=1'],
      ['a control character', 'response-cache-control', 'no-\u0001cache'],
      ['non-ASCII', 'response-content-disposition', 'attachment; filename="r\u00e9sum\u00e9.pdf"'],
      ['text beyond Latin-1', 'response-content-language', '\u65e5\u672c\u8a9e'],
      ['a bare LF', 'response-expires', 'Thu, 01 Jan 2037\n00:00:00 GMT'],
      ['NUL', 'response-content-encoding', 'gzip\u0000'],
    ])('answers %s in %s with 400 InvalidArgument on GET and HEAD', async (_what, name, value) => {
      const get = await send(await presign('GET', `/${bucket}/k`, { [name]: value }), 'GET');
      expect({ status: get.status, code: xmlCode(get.body) }).toEqual({ status: 400, code: 'InvalidArgument' });
      expect(get.body).toContain(`<ArgumentName>${name}</ArgumentName>`);
      const head = await send(await presign('HEAD', `/${bucket}/k`, { [name]: value }), 'HEAD');
      expect(head.status).toBe(400);
    });

    it('still applies ASCII overrides', async () => {
      const got = await send(await presign('GET', `/${bucket}/k`, { 'response-content-type': 'text/csv', 'response-content-disposition': 'attachment; filename="a.csv"' }), 'GET');
      expect(got.status).toBe(200);
      expect(got.headers['content-type']).toBe('text/csv');
      expect(got.headers['content-disposition']).toBe('attachment; filename="a.csv"');
    });

    it('stores user metadata and content headers sent as raw UTF-8 bytes: content headers served back byte for byte, metadata as S3 serves non-ASCII (RFC 2047)', async () => {
      // Node reads header bytes as Latin-1 and writes them back the same way: UTF-8 round-trips.
      const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
      const put = await send(await presign('PUT', `/${bucket}/utf8-meta`), 'PUT', {
        'x-amz-meta-city': utf8('Z\u00fcrich \u65e5\u672c'),
        // (not Content-Disposition: node:http's client re-encodes that one itself)
        'cache-control': utf8('private, note="\u00e9t\u00e9"'),
        'content-type': utf8('text/plain; name=\u00e9'),
        'content-length': '2',
      }, Buffer.from('hi')); // a Buffer body: with a string one Node writes the header block as UTF-8 too
      expect(put.status).toBe(200);
      const got = await send(await presign('GET', `/${bucket}/utf8-meta`), 'GET');
      expect(got.status).toBe(200);
      expect(got.headers['x-amz-meta-city']).toBe(`=?UTF-8?B?${Buffer.from('Z\u00fcrich \u65e5\u672c', 'utf8').toString('base64')}?=`);
      expect(Buffer.from(String(got.headers['cache-control']), 'latin1').toString('utf8')).toBe('private, note="\u00e9t\u00e9"');
      expect(Buffer.from(String(got.headers['content-type']), 'latin1').toString('utf8')).toBe('text/plain; name=\u00e9');
      expect((await send(await presign('HEAD', `/${bucket}/utf8-meta`), 'HEAD')).status).toBe(200);
    });
  });

  describe('header count (finding 6)', () => {
    /** Raw header lines: host, content-length, `fillers` unsigned x-filler headers, then `last`. */
    function headerList(url: string, fillers: number, last: readonly [string, string]): string[] {
      const list = ['host', new URL(url).host, 'content-length', '11'];
      for (let i = 0; i < fillers; i++) list.push(`x-filler-${i}`, 'f');
      list.push(...last);
      return list;
    }

    it(`refuses a request with more than ${MAX_REQUEST_HEADERS} headers with 400, rather than dropping If-None-Match: * sent as the 207th`, async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-207', Body: 'first write' }));
      // host, content-length, 204 fillers, then If-None-Match as header 207 (Node used to drop it: overwritten).
      const url = await presign('PUT', `/${bucket}/cond-207`);
      const answer = await send(url, 'PUT', headerList(url, 204, ['if-none-match', '*']), 'overwritten');
      expect({ status: answer.status, code: xmlCode(answer.body) }).toEqual({ status: 400, code: 'RequestHeaderSectionTooLarge' });
      expect(answer.headers['x-amz-request-id']).toBeTruthy();
      const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond-207' }));
      expect(await kept.Body!.transformToString()).toBe('first write');
    });

    it('honours the same conditional header within the limit', async () => {
      const url = await presign('PUT', `/${bucket}/cond-207`);
      const answer = await send(url, 'PUT', headerList(url, 100, ['if-none-match', '*']), 'overwritten');
      expect({ status: answer.status, code: xmlCode(answer.body) }).toEqual({ status: 412, code: 'PreconditionFailed' });
    });
  });

  describe('a request refused before its body was read', () => {
    /** Reads one HTTP/1.1 response (headers and a Content-Length body) off a raw socket. */
    function nextResponse(socket: Socket): Promise<{ status: number; headers: string; body: string }> {
      return new Promise((resolve, reject) => {
        let buffered = Buffer.alloc(0);
        const onData = (piece: Buffer) => {
          buffered = Buffer.concat([buffered, piece]);
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const headers = buffered.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          socket.off('data', onData);
          socket.off('close', onClose);
          resolve({ status: Number(headers.split(' ')[1]), headers: headers.toLowerCase(), body: buffered.subarray(end + 4, end + 4 + length).toString('utf8') });
        };
        const onClose = () => reject(new Error(`connection closed before a whole response (${buffered.length} bytes in)`));
        socket.on('data', onData);
        socket.once('close', onClose);
      });
    }

    /** A plain TCP connection to the gateway, for requests written byte by byte. */
    async function rawConnection(): Promise<{ socket: Socket; hostname: string; port: string }> {
      const { hostname, port } = new URL(stack.endpoint);
      const socket = connect(Number(port), hostname);
      await new Promise((resolve) => socket.once('connect', resolve));
      return { socket, hostname, port };
    }

    it('keeps the connection for a small body: the client finishes sending it, reads the refusal, and sends its next request there', async () => {
      const { socket, hostname, port } = await rawConnection();
      try {
        // Unsigned: refused (AccessDenied) from the headers alone, before a byte of the body is read.
        const first = nextResponse(socket);
        socket.write(`PUT /${bucket}/refused HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: 10\r\nx-amz-storage-class: DEEP_FREEZE\r\n\r\n`);
        const refused = await first;
        expect({ status: refused.status, code: xmlCode(refused.body) }).toEqual({ status: 403, code: 'AccessDenied' });
        expect(refused.headers).not.toContain('connection: close');
        // The body the client was still sending is read and dropped; the connection serves what comes next.
        const second = nextResponse(socket);
        socket.write('0123456789');
        socket.write(`GET /${bucket}/k HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
        expect(xmlCode((await second).body)).toBe('AccessDenied');
      } finally {
        socket.destroy();
      }
    });

    it('keeps the connection for a small chunked body (the AWS SDKs send a stream body aws-chunked, sized only by x-amz-decoded-content-length)', async () => {
      const { socket, hostname, port } = await rawConnection();
      try {
        const first = nextResponse(socket);
        socket.write(
          `PUT /${bucket}/refused HTTP/1.1\r\nHost: ${hostname}:${port}\r\nTransfer-Encoding: chunked\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 10\r\n\r\n`,
        );
        const refused = await first;
        expect(refused.status).toBe(403);
        expect(refused.headers).not.toContain('connection: close');
        const second = nextResponse(socket);
        socket.write('a\r\n0123456789\r\n0\r\n\r\n');
        socket.write(`GET /${bucket}/k HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
        expect(xmlCode((await second).body)).toBe('AccessDenied');
      } finally {
        socket.destroy();
      }
    });

    it('answers a signed SDK upload of a stream refused for its headers with the S3 error, every time (not EPIPE)', async () => {
      // The race that CI lost under load (the reset overtaking the answer) seldom shows on a quiet
      // machine; the raw-socket cases above pin down the mechanism, this one the client's view.
      for (let attempt = 0; attempt < 20; attempt++) {
        const body = Readable.from([Buffer.from('0123456789')]);
        const refused = s3.send(new PutObjectCommand({ Bucket: bucket, Key: `bad-class-${attempt}`, Body: body, ContentLength: 10, StorageClass: 'DEEP_FREEZE' as StorageClass }));
        expect(await s3Failure(refused)).toEqual({ code: 'InvalidStorageClass', status: 400 });
      }
    });

    it('closes the connection when the body is too large to be worth receiving, lingering: the client gets an orderly end, not a reset, while it finishes writing', async () => {
      const { socket, hostname, port } = await rawConnection();
      const errors: Error[] = [];
      socket.on('error', (error) => errors.push(error));
      try {
        const first = nextResponse(socket);
        socket.write(`PUT /${bucket}/refused HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: ${64 * MiB}\r\n\r\n`);
        const refused = await first;
        expect(refused.status).toBe(403);
        expect(refused.headers).toContain('connection: close');
        const ended = new Promise((resolve) => socket.once('end', resolve));
        for (let sent = 0; sent < 2 * MiB; sent += 64 * 1024) {
          if (!socket.write(Buffer.alloc(64 * 1024))) await new Promise((resolve) => socket.once('drain', resolve));
        }
        await ended;
        await sleep(200);
        expect(errors).toEqual([]);
      } finally {
        socket.destroy();
      }
    });
  });

  describe('hostile requests on the wire', () => {
    /** Writes `bytes` on a fresh connection; all that came back once the server closed it. */
    function exchangeRaw(url: string, bytes: string): Promise<string> {
      const { hostname, port } = new URL(url);
      return new Promise((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        let received = '';
        socket.on('data', (piece) => (received += piece.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
        socket.write(bytes);
      });
    }
    const pathOf = (url: string) => url.slice(new URL(url).origin.length);
    const statuses = (answer: string) => [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));

    it('serves requests pipelined on one connection in order: a DELETE sent right behind a PUT of the same key removes what the PUT wrote', async () => {
      const host = new URL(stack.endpoint).host;
      const put = await presign('PUT', `/${bucket}/pipelined`);
      const del = await presign('DELETE', `/${bucket}/pipelined`);
      const answer = await exchangeRaw(
        stack.endpoint,
        `PUT ${pathOf(put)} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\nhelloDELETE ${pathOf(del)} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(statuses(answer)).toEqual([200, 204]);
      // Both acknowledged, in order: the key is gone (the DELETE used to start first and lose).
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'pipelined' })))).toEqual({ code: 'NoSuchKey', status: 404 });
    });

    it.each([
      ['a header section over 16 KiB', `GET /b/k HTTP/1.1\r\nHost: h\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`, 400, 'RequestHeaderSectionTooLarge'],
      ['a header line without a colon', 'GET /b/k HTTP/1.1\r\nHost: h\r\ngarbage\r\n\r\n', 400, 'InvalidRequest'],
      ['a non-numeric Content-Length', 'PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n', 400, 'InvalidRequest'],
      ['both Content-Length and Transfer-Encoding', 'PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'InvalidRequest'],
      ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'MethodNotAllowed'],
    ])("answers %s, which Node's parser refuses, as S3 XML with a request id (not a bare status line)", async (_what, request, status, code) => {
      const answer = await exchangeRaw(stack.endpoint, request);
      expect({ status: statuses(answer)[0], code: xmlCode(answer) }).toEqual({ status, code });
      expect(answer).toMatch(/\r\nContent-Type: application\/xml\r\n/);
      expect(answer).toMatch(/\r\nx-amz-request-id: [0-9a-f-]{36}\r\n/);
    });

    it.each([
      ['ListObjects prefix', { prefix: 'a\u0000' }],
      ['ListObjects marker', { marker: '\u0000' }],
      ['ListObjectsV2 start-after', { 'list-type': '2', 'start-after': '\u0000' }],
      ['ListObjectsV2 continuation token', { 'list-type': '2', 'continuation-token': Buffer.from(JSON.stringify({ v: 1, after: '\u0000' })).toString('base64url') }],
      ['ListObjectVersions key-marker', { versions: '', 'key-marker': '\u0000' }],
      ['ListMultipartUploads prefix', { uploads: '', prefix: '\u0000' }],
    ])('refuses a %s holding NUL with 400 InvalidArgument (Postgres failed on it: 500)', async (_what, query) => {
      const answer = await send(await presign('GET', `/${bucket}`, query), 'GET');
      expect({ status: answer.status, code: xmlCode(answer.body) }).toEqual({ status: 400, code: 'InvalidArgument' });
    });

    it('refuses NUL in a tag value (&#0; in the XML) with 400, and the writes after it are served at once: the projection used to stop on it for good (every later write 503)', async () => {
      const tagging = '<Tagging><TagSet><Tag><Key>k</Key><Value>a&#0;b</Value></Tag></TagSet></Tagging>';
      for (const path of [`/${bucket}`, `/${bucket}/k`]) {
        const answer = await send(await presign('PUT', path, { tagging: '' }), 'PUT', {}, tagging);
        expect({ path, status: answer.status, code: xmlCode(answer.body) }).toEqual({ path, status: 400, code: 'InvalidArgument' });
      }
      const startedAt = Date.now();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-nul', Body: 'still served' }));
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'k', Value: 'fine' }] } }));
      expect(Date.now() - startedAt).toBeLessThan(3_000);
    });

    it("answers them on the internal routes in the service's error JSON (a storage node)", async () => {
      const storage = stack.processes.find((p) => p.app === 'storage')!;
      const answer = await exchangeRaw(storage.url, `GET /health HTTP/1.1\r\nHost: h\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
      expect(statuses(answer)).toEqual([431]);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    });
  });

  describe('what is not a fault is not logged as an error: client aborts (finding 7), features Cairn lacks', () => {
    let gateway: ServiceProcess;
    beforeAll(async () => {
      gateway = await startServiceProcess({
        app: 'access',
        env: { CAIRN_NS: stack.namespace, CAIRN_INSTANCE: 'access-aborts', CAIRN_LOG_LEVEL: 'debug', CAIRN_INLINE_OBJECT_MAX_BYTES: '0' },
      });
    }, 60_000);
    afterAll(async () => {
      await gateway?.stop();
    });

    const errorLines = (output: string) => output.split('\n').filter((line) => line.includes('"level":"error"'));

    it('logs a client that goes away mid-upload or mid-download at debug, not as an error (access and storage)', async () => {
      const big = randomBytes(4 * MiB);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: big }));
      const storageErrorsBefore = stack.processes.map((p) => errorLines(p.output()).length);

      // Mid-upload: half the declared body, then the connection is cut.
      const putUrl = await presignUrl(gateway.url, stack.root, 'PUT', `/${bucket}/aborted-upload`);
      await new Promise<void>((resolve) => {
        const req = httpRequest(putUrl, { method: 'PUT', headers: { 'content-length': String(big.length) } });
        req.on('error', () => resolve());
        req.write(big.subarray(0, 2 * MiB + 5));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      });

      // Mid-download: the first bytes, then the connection is cut.
      const getUrl = await presignUrl(gateway.url, stack.root, 'GET', `/${bucket}/big`);
      await new Promise<void>((resolve) => {
        const req = httpRequest(getUrl, { method: 'GET' }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => resolve());
        req.end();
      });
      await sleep(LOG_SETTLE_MS);

      const output = gateway.output();
      expect(errorLines(output)).toEqual([]);
      expect(output).toMatch(/"level":"debug"[^\n]*"msg":"S3 client went away mid-request"/);
      expect(output).toMatch(/"level":"debug"[^\n]*"msg":"request aborted"/);
      expect(stack.processes.map((p) => errorLines(p.output()).length)).toEqual(storageErrorsBefore);
      expect(await s3Failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'aborted-upload' })))).toMatchObject({ code: 'NoSuchKey' });
    });

    it('logs an unsigned request for a feature Cairn lacks (501 NotImplemented) as one warn line with the reason, not an error with a stack', async () => {
      const before = gateway.output().length;
      const answer = await send(`${gateway.url}/${bucket}?website`, 'GET');
      expect({ status: answer.status, code: xmlCode(answer.body) }).toEqual({ status: 501, code: 'NotImplemented' });
      await sleep(LOG_SETTLE_MS);
      const lines = gateway.output().slice(before).split('\n').filter((line) => line.includes(answer.headers['x-amz-request-id'] as string));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', msg: 'request refused', res: { statusCode: 501 }, refusal: expect.stringContaining('website') });
      expect(errorLines(gateway.output().slice(before))).toEqual([]);
    });
  });
});
