import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { eventually, testOperatorToken } from '@cairn/testing';
import { DEFAULT_INLINE_OBJECT_MAX_BYTES } from './access.config';
import { startS3Stack, type S3Stack } from './testing/s3-stack.e2e-helper';

/** OTLP span kinds as the JSON encoding numbers them. */
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: number | string;
}
interface OtlpAttribute {
  readonly key: string;
  readonly value: OtlpValue;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes?: readonly OtlpAttribute[];
}
interface OtlpExport {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: readonly OtlpAttribute[] };
    readonly scopeSpans?: readonly { readonly spans?: readonly OtlpSpan[] }[];
  }[];
}

/** A span as received, with the resource's service and instance beside it. */
interface ReceivedSpan {
  readonly service: string;
  readonly instance: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, string>;
}

function attributesOf(list: readonly OtlpAttribute[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list ?? []) out[a.key] = String(a.value.stringValue ?? a.value.intValue ?? '');
  return out;
}

/** A collector in miniature: accepts OTLP/HTTP JSON on POST /v1/traces and keeps every span. */
async function startOtlpReceiver(): Promise<{ readonly url: string; readonly spans: ReceivedSpan[]; readonly contentTypes: Set<string>; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.add(String(req.headers['content-type']));
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const payload = JSON.parse(body.toString('utf8')) as OtlpExport;
      for (const rs of payload.resourceSpans ?? []) {
        const resource = attributesOf(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              service: resource['service.name'],
              instance: resource['service.instance.id'],
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('traces across access → metadata → storage → JetStream', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let stack: S3Stack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startS3Stack({ env: { CAIRN_OTLP_ENDPOINT: receiver.url, CAIRN_OTLP_EXPORT_DELAY_MS: '100' } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('gives one PUT spans from every service it touched, with one trace id and each hop under its caller', async () => {
    const s3 = stack.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'traced' }));
    // Larger than the inline limit: its bytes go to storage nodes, its version to metadata.
    const body = randomBytes(DEFAULT_INLINE_OBJECT_MAX_BYTES * 8);
    await s3.send(new PutObjectCommand({ Bucket: 'traced', Key: 'a/traced.bin', Body: body }));

    const put = await eventually(() => receiver.spans.find((s) => s.service === 'access' && s.name === 'S3 PutObject'), 20_000);
    expect(put.kind).toBe(SERVER);
    expect(put.parentSpanId).toBe('');
    expect(put.attributes).toMatchObject({ 'cairn.s3.operation': 'PutObject', 'cairn.s3.bucket': 'traced', 'http.response.status_code': '200' });

    const inTrace = () => receiver.spans.filter((s) => s.traceId === put.traceId);
    const byId = () => new Map(inTrace().map((s) => [s.spanId, s]));
    // Every hop: RPC to metadata, its server span and append, chunk writes and the nodes' server spans.
    // Each process exports in its own batches: wait until every span's parent has arrived too.
    await eventually(() => {
      const spans = inTrace();
      const ids = byId();
      const storageServers = spans.filter((s) => s.service === 'storage' && s.kind === SERVER);
      const appends = spans.filter((s) => s.service === 'metadata' && s.kind === PRODUCER);
      const complete = spans.every((s) => s === put || ids.has(s.parentSpanId));
      return complete && storageServers.length >= 2 && appends.length >= 1 ? true : undefined;
    }, 20_000);

    const spans = inTrace();
    const ids = byId();
    if (process.env['TRACE_DUMP']) {
      const depth = (s: ReceivedSpan): number => (ids.get(s.parentSpanId) ? 1 + depth(ids.get(s.parentSpanId)!) : 0);
      const print = (s: ReceivedSpan) => { process.stdout.write(`${'  '.repeat(depth(s))}${s.service}/${s.instance} ${s.kind} ${s.name} ${JSON.stringify(s.attributes)}\n`); spans.filter((c) => c.parentSpanId === s.spanId).forEach(print); };
      print(put);
      process.stdout.write(`total ${spans.length} spans; orphans: ${spans.filter((s) => s !== put && !ids.get(s.parentSpanId)).map((s) => s.name).join(', ')}\n`);
    }
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['access', 'metadata', 'storage']));

    // access → metadata: an RPC client span under the S3 span, a metadata server span under it.
    const rpcClients = spans.filter((s) => s.service === 'access' && s.kind === CLIENT && s.attributes['rpc.system'] === 'nats');
    expect(rpcClients.length).toBeGreaterThan(0);
    for (const c of rpcClients) expect(c.parentSpanId).toBe(put.spanId);
    const metadataServers = spans.filter((s) => s.service === 'metadata' && s.kind === SERVER);
    expect(metadataServers.length).toBeGreaterThan(0);
    for (const m of metadataServers) {
      const parent = ids.get(m.parentSpanId);
      expect(parent).toMatchObject({ service: 'access', kind: CLIENT, name: m.name });
    }

    // metadata → JetStream: the append of the new version, under the RPC that made it.
    const appends = spans.filter((s) => s.service === 'metadata' && s.kind === PRODUCER);
    const versionAppend = appends.find((a) => a.attributes['cairn.event.types'].includes('ObjectVersionPut'));
    expect(versionAppend).toBeDefined();
    expect(versionAppend!.name).toMatch(/^append .*META$/);
    expect(versionAppend!.attributes['messaging.destination.name']).toMatch(/meta\.object\.traced\./);
    expect(ids.get(versionAppend!.parentSpanId)).toMatchObject({ service: 'metadata', kind: SERVER });

    // access → storage: a client span per chunk write under the S3 span, a node's server span under each.
    const chunkClients = spans.filter((s) => s.service === 'access' && s.kind === CLIENT && s.name === 'PUT /chunks/:hash');
    expect(chunkClients.length).toBeGreaterThanOrEqual(2);
    for (const c of chunkClients) expect(c.parentSpanId).toBe(put.spanId);
    const storageServers = spans.filter((s) => s.service === 'storage' && s.kind === SERVER);
    const nodes = new Set<string>();
    for (const s of storageServers) {
      expect(s.name).toBe('PUT /chunks/:hash');
      expect(ids.get(s.parentSpanId)).toMatchObject({ service: 'access', kind: CLIENT, name: 'PUT /chunks/:hash' });
      nodes.add(s.instance);
    }
    expect(nodes.size).toBeGreaterThanOrEqual(2);

    // OTLP/HTTP with JSON bodies, as the exporter sends by default.
    expect([...receiver.contentTypes]).toEqual(['application/json']);
  }, 60_000);

  it('counts and times S3 requests per operation on /metrics', async () => {
    const s3 = stack.client();
    await s3.send(new GetObjectCommand({ Bucket: 'traced', Key: 'a/traced.bin' })).then((r) => r.Body?.transformToByteArray());
    await s3.send(new GetObjectCommand({ Bucket: 'traced', Key: 'missing' })).catch(() => undefined);
    const text = await (await fetch(`${stack.endpoint}/metrics`, { headers: { authorization: `Bearer ${testOperatorToken('read-only')}` } })).text();
    expect(text).toMatch(/\ncairn_s3_requests_total\{[^}]*operation="PutObject",status_class="2xx"[^}]*\} [1-9]/);
    expect(text).toMatch(/\ncairn_s3_requests_total\{[^}]*operation="GetObject",status_class="4xx"[^}]*\} [1-9]/);
    expect(text).toMatch(/\ncairn_s3_request_duration_seconds_bucket\{[^}]*le="0\.1"[^}]*operation="PutObject"[^}]*\} \d+/);
    expect(text).toMatch(/\ncairn_s3_request_duration_seconds_count\{[^}]*operation="GetObject"[^}]*\} [2-9]/);
  });
});
