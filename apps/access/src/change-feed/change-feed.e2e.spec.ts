import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import type { ChangeFeedPage, ChangeFeedRecord } from '@cairn/protocol';
import { MetricsService } from '@cairn/service-kit';
import { bootForTest, eventually, startServiceProcess, type ServiceProcess } from '@cairn/testing';
import { AccessService } from '../service';
import { E2E_CACHE_TTL_MS, E2E_REGION, presignUrl, startS3Stack, type Credentials, type S3Stack } from '../testing/s3-stack.e2e-helper';

/**
 * The change feed end to end: objects written through S3, fed by a sync process from META onto
 * CHANGES, read through the S3 endpoint by long poll and SSE; the feeder killed with SIGKILL
 * mid-stream loses and repeats nothing; refusals are S3 XML errors.
 */
jest.setTimeout(180_000);

const FEED_TIMEOUT_MS = 30_000;

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

/** A GET signed in the Authorization header, as an SDK signs it. */
async function signedGet(endpoint: string, credentials: Credentials, path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({ credentials, region: E2E_REGION, service: 's3', sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign(
    new HttpRequest({ method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query, headers: { host: url.host, 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') } }),
  );
  const search = new URLSearchParams(query).toString();
  return fetch(`${endpoint}${path}${search ? `?${search}` : ''}`, { headers: { ...(signed.headers as Record<string, string>), ...headers } });
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

function s3Code(text: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
}

/** Every record of the bucket from the beginning, by long-poll pages. */
async function readAll(endpoint: string, credentials: Credentials, bucket: string, limit = 1000): Promise<ChangeFeedRecord[]> {
  const records: ChangeFeedRecord[] = [];
  let cursor = '0';
  for (;;) {
    const res = await signedGet(endpoint, credentials, `/_cairn/changes/${bucket}`, { cursor, limit: String(limit) });
    const page = (await res.json()) as ChangeFeedPage;
    records.push(...page.records);
    if (page.nextCursor === cursor) return records;
    cursor = page.nextCursor;
  }
}

interface SseEvent {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
}

/** Reads an SSE answer until `enough` says so (or the deadline); returns its events and comment lines. */
async function readSse(res: Response, enough: (events: SseEvent[], comments: string[]) => boolean, timeoutMs = FEED_TIMEOUT_MS): Promise<{ events: SseEvent[]; comments: string[] }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!enough(events, comments)) {
      if (Date.now() > deadline) throw new Error(`SSE: not enough within ${timeoutMs} ms: ${JSON.stringify({ events, comments })}`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.includes(':')) event[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trimStart();
        }
        if (event['data'] !== undefined || event['id'] !== undefined) events.push(event);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { events, comments };
}

describe('change feed (e2e: S3 writes → sync feeder → CHANGES → /_cairn/changes)', () => {
  let stack: S3Stack;
  let feeder: ServiceProcess;
  let alice: Credentials;
  let bob: Credentials;
  let asAlice: S3Client;
  const bucket = 'feed-photos';
  const startFeeder = (instance: string) => startServiceProcess({ app: 'sync', env: { CAIRN_NS: stack.namespace, CAIRN_INSTANCE: instance } });

  beforeAll(async () => {
    stack = await startS3Stack();
    feeder = await startFeeder('sync-e2e-1');
    alice = await stack.createAccessKey('feed-alice');
    bob = await stack.createAccessKey('feed-bob');
    asAlice = stack.client(alice);
    await asAlice.send(new CreateBucketCommand({ Bucket: bucket }));
    await asAlice.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  afterAll(async () => {
    await feeder?.stop();
    await stack?.stop();
  });

  it('turns puts, tags, a delete marker and a version delete into records, in order, with nothing internal', async () => {
    const first = await asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/one.txt', Body: 'hello', Metadata: { note: 'private-note' } }));
    const second = await asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/one.txt', Body: 'hello, again' }));
    await asAlice.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'a/one.txt', Tagging: { TagSet: [{ Key: 'colour', Value: 'blue' }] } }));
    const marker = await asAlice.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a/one.txt' }));
    await asAlice.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a/one.txt', VersionId: first.VersionId }));

    const records = await eventually(async () => {
      const all = await readAll(stack.endpoint, alice, bucket);
      return all.length >= 5 ? all : undefined;
    }, FEED_TIMEOUT_MS);
    expect(records.map((r) => [r.type, r.versionId])).toEqual([
      ['object.created', first.VersionId],
      ['object.created', second.VersionId],
      ['object.tags', second.VersionId],
      ['object.delete-marker', marker.VersionId],
      ['object.deleted', first.VersionId],
    ]);
    expect(records[0]).toMatchObject({ bucket, key: 'a/one.txt', etag: createHash('md5').update('hello').digest('hex'), sizeBytes: 5, isDeleteMarker: false, isLatest: true });
    expect(records[2].tags).toEqual([{ key: 'colour', value: 'blue' }]);
    expect(records[3]).toMatchObject({ isDeleteMarker: true, etag: null, sizeBytes: null });
    for (const r of records) {
      expect(r).toMatchObject({ region: expect.any(String), hlc: expect.any(String), occurredAt: expect.any(String), cursor: expect.stringMatching(/^\d+$/) });
    }
    // Cursors only grow, and nothing internal leaks.
    const cursors = records.map((r) => Number(r.cursor));
    expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
    const text = JSON.stringify(records);
    for (const internal of ['chunks', 'inline', 'checksums', 'private-note', 'incarnation', 'keyId', 'vector']) expect(text).not.toContain(internal);
  });

  it('pages with limit and resumes from nextCursor; cursor=now starts at the end; wait holds a poll until a change arrives', async () => {
    const all = await readAll(stack.endpoint, alice, bucket);
    const firstPage = (await (await signedGet(stack.endpoint, alice, `/_cairn/changes/${bucket}`, { limit: '2' })).json()) as ChangeFeedPage;
    expect(firstPage.records.map((r) => r.cursor)).toEqual(all.slice(0, 2).map((r) => r.cursor));
    expect(firstPage.nextCursor).toBe(all[1].cursor);
    const secondPage = (await (await signedGet(stack.endpoint, alice, `/_cairn/changes/${bucket}`, { cursor: firstPage.nextCursor, limit: '2' })).json()) as ChangeFeedPage;
    expect(secondPage.records.map((r) => r.cursor)).toEqual(all.slice(2, 4).map((r) => r.cursor));

    // Caught up: an answer at once, empty, with the same cursor.
    const end = all[all.length - 1].cursor;
    const idle = (await (await signedGet(stack.endpoint, alice, `/_cairn/changes/${bucket}`, { cursor: end })).json()) as ChangeFeedPage;
    expect(idle).toEqual({ bucket, records: [], nextCursor: end });
    const now = (await (await signedGet(stack.endpoint, alice, `/_cairn/changes/${bucket}`, { cursor: 'now' })).json()) as ChangeFeedPage;
    expect(now.records).toEqual([]);

    // A long poll waits for the next change and answers as soon as it is fed.
    const startedMs = Date.now();
    const polling = signedGet(stack.endpoint, alice, `/_cairn/changes/${bucket}`, { cursor: end, wait: '20' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: 'b/polled.txt', Body: 'x' }));
    const polled = (await (await polling).json()) as ChangeFeedPage;
    expect(polled.records.map((r) => [r.type, r.key])).toEqual([['object.created', 'b/polled.txt']]);
    expect(Date.now() - startedMs).toBeLessThan(15_000);
    expect(Number(polled.nextCursor)).toBeGreaterThan(Number(end));
  });

  it('streams Server-Sent Events with id = cursor, resumes from Last-Event-ID, and sends heartbeats', async () => {
    const all = await readAll(stack.endpoint, alice, bucket);
    const res = await signedGet(stack.endpoint, alice, `/_cairn/changes/${bucket}`, { wait: '1' }, { accept: 'text/event-stream' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const history = await readSse(res, (events, comments) => events.length >= all.length && comments.includes('heartbeat'));
    expect(history.events.map((e) => e.id)).toEqual(all.map((r) => r.cursor));
    expect(history.events.map((e) => e.event)).toEqual(all.map((r) => r.type));
    expect((JSON.parse(history.events[0].data!) as ChangeFeedRecord).versionId).toBe(all[0].versionId);

    // Resuming: what came after the last event seen, history and then live changes (a presigned URL works as well).
    const resumeFrom = all[all.length - 2].cursor;
    const resumed = await fetch(await presignUrl(stack.endpoint, alice, 'GET', `/_cairn/changes/${bucket}`, { query: { wait: '1' } }), {
      headers: { accept: 'text/event-stream', 'last-event-id': resumeFrom },
    });
    expect(resumed.status).toBe(200);
    const live = asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: 'c/live.txt', Body: 'live' }));
    const after = await readSse(resumed, (events) => events.some((e) => e.data?.includes('c/live.txt')));
    await live;
    expect(after.events[0].id).toBe(all[all.length - 1].cursor);
    expect(after.events.map((e) => (JSON.parse(e.data!) as ChangeFeedRecord).key)).toContain('c/live.txt');
  });

  it('loses and repeats no record when the feeder is killed with SIGKILL mid-stream and restarted', async () => {
    const before = (await readAll(stack.endpoint, alice, bucket)).length;
    const count = 40;
    const keys = Array.from({ length: count }, (_, i) => `kill/${String(i).padStart(3, '0')}.txt`);
    let written = 0;
    const writing = (async () => {
      for (const key of keys) {
        await asAlice.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
        written += 1;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    // Killed once some of the burst is on the feed and while the rest is still being written.
    await eventually(async () => (await readAll(stack.endpoint, alice, bucket)).length >= before + 5, FEED_TIMEOUT_MS, 20);
    feeder.child.kill('SIGKILL');
    expect(written).toBeLessThan(count);
    await new Promise<void>((resolve) => (feeder.child.exitCode !== null || feeder.child.signalCode !== null ? resolve() : feeder.child.once('exit', () => resolve())));
    await writing;
    feeder = await startFeeder('sync-e2e-2');

    const records = await eventually(async () => {
      const all = await readAll(stack.endpoint, alice, bucket);
      return all.filter((r) => r.key.startsWith('kill/')).length >= count ? all : undefined;
    }, 60_000);
    const killed = records.filter((r) => r.key.startsWith('kill/'));
    expect(killed.map((r) => r.key)).toEqual(keys);
    // Each change once: no event id, and no (key, version) twice.
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    expect(new Set(killed.map((r) => `${r.key} ${r.versionId}`)).size).toBe(count);
    // Nothing more arrives later either (an ack lost in the kill is redelivered after the ack wait, and skipped).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await readAll(stack.endpoint, alice, bucket)).length).toBe(records.length);
  });

  it('refuses, as S3 XML errors: an unsigned request, another owner, a missing bucket, a bad or future cursor, a bad limit, another method', async () => {
    const path = `/_cairn/changes/${bucket}`;
    const unsigned = await answer(await fetch(`${stack.endpoint}${path}`));
    expect([unsigned.status, s3Code(unsigned.text), unsigned.contentType]).toEqual([403, 'AccessDenied', 'application/xml']);
    const unsignedSse = await answer(await fetch(`${stack.endpoint}${path}`, { headers: { accept: 'text/event-stream' } }));
    expect([unsignedSse.status, s3Code(unsignedSse.text)]).toEqual([403, 'AccessDenied']);
    const otherOwner = await answer(await signedGet(stack.endpoint, bob, path));
    expect([otherOwner.status, s3Code(otherOwner.text)]).toEqual([403, 'AccessDenied']);
    const missing = await answer(await signedGet(stack.endpoint, alice, '/_cairn/changes/no-such-feed-bucket'));
    expect([missing.status, s3Code(missing.text)]).toEqual([404, 'NoSuchBucket']);
    for (const query of [{ cursor: 'abc' }, { cursor: '999999999999' }, { limit: '5000' }, { wait: '600' }] as Record<string, string>[]) {
      const bad = await answer(await signedGet(stack.endpoint, alice, path, query));
      expect({ query, status: bad.status, code: s3Code(bad.text) }).toEqual({ query, status: 400, code: 'InvalidArgument' });
    }
    const post = await answer(await fetch(await presignUrl(stack.endpoint, alice, 'POST', path), { method: 'POST' }));
    expect([post.status, s3Code(post.text)]).toEqual([405, 'MethodNotAllowed']);
    // Counted under their own operation, refused ones included, never under an S3 operation on a bucket "_cairn".
    const metrics = await stack.access.app.get(MetricsService).registry.metrics();
    expect(metrics).toMatch(/cairn_s3_requests_total\{[^}]*operation="GetChangeFeed"[^}]*status_class="4xx"/);
    expect(metrics).toMatch(/cairn_s3_requests_total\{[^}]*operation="GetChangeFeed"[^}]*status_class="2xx"/);
  });

  it('does not show a bucket created again under the same name the changes of the one before', async () => {
    const reused = 'feed-reused';
    await asAlice.send(new CreateBucketCommand({ Bucket: reused }));
    await asAlice.send(new PutObjectCommand({ Bucket: reused, Key: 'old-life.txt', Body: 'old' }));
    await asAlice.send(new DeleteObjectCommand({ Bucket: reused, Key: 'old-life.txt' }));
    await eventually(async () => (await readAll(stack.endpoint, alice, reused)).length >= 2 || undefined, FEED_TIMEOUT_MS);
    await asAlice.send(new DeleteBucketCommand({ Bucket: reused }));
    await asAlice.send(new CreateBucketCommand({ Bucket: reused }));
    await asAlice.send(new PutObjectCommand({ Bucket: reused, Key: 'new-life.txt', Body: 'new' }));
    const records = await eventually(async () => {
      const all = await readAll(stack.endpoint, alice, reused);
      return all.some((r) => r.key === 'new-life.txt') ? all : undefined;
    }, FEED_TIMEOUT_MS);
    expect(records.map((r) => [r.type, r.key])).toEqual([['object.created', 'new-life.txt']]);
  });

  it('ends its long polls and SSE streams when the gateway shuts down, instead of holding the shutdown', async () => {
    const gateway = await bootForTest(AccessService, stack.namespace, { CAIRN_INSTANCE: 'access-feed-closing', CAIRN_CACHE_TTL_MS: String(E2E_CACHE_TTL_MS) });
    const stream = await signedGet(gateway.url, alice, `/_cairn/changes/${bucket}`, { cursor: 'now', wait: '60' }, { accept: 'text/event-stream' });
    expect(stream.status).toBe(200);
    const poll = signedGet(gateway.url, alice, `/_cairn/changes/${bucket}`, { cursor: 'now', wait: '60' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const startedMs = Date.now();
    await gateway.close();
    expect(Date.now() - startedMs).toBeLessThan(5_000);
    const polled = await poll;
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as ChangeFeedPage).records).toEqual([]);
    const ended = await readSse(stream, () => false, 5_000);
    expect(ended.events).toEqual([]);
  });

  it('is readable by whoever the bucket policy lets list the bucket', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'BobLists', Effect: 'Allow', Principal: { AWS: 'feed-bob' }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` }],
    };
    await asAlice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    const res = await eventually(async () => {
      const r = await signedGet(stack.endpoint, bob, `/_cairn/changes/${bucket}`, { limit: '1' });
      return r.status === 200 ? r : (await r.arrayBuffer(), undefined);
    }, 10_000, 100);
    const page = (await res.json()) as ChangeFeedPage;
    expect(page.records).toHaveLength(1);

    // An open stream is authorized again as it goes: withdrawing the grant ends it with an error event.
    const stream = await signedGet(stack.endpoint, bob, `/_cairn/changes/${bucket}`, { cursor: 'now', wait: '1' }, { accept: 'text/event-stream' });
    expect(stream.status).toBe(200);
    await asAlice.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    const ended = await readSse(stream, (events) => events.some((e) => e.event === 'error'));
    expect(ended.events.find((e) => e.event === 'error')?.data).toBe('{"code":"AccessDenied"}');
  });
});
