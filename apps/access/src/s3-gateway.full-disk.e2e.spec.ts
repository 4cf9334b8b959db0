import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { JetStreamEventStore, NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, subjectsFor, type ListNodesReply } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, keptPort, signedFetch, startServiceProcess, testNamespace, type ServiceProcess } from '@cairn/testing';
import type { AccessConfig } from './access.config';
import { AccessService } from './service';
import { E2E_CHUNK_SIZE_BYTES, E2E_REGION, E2E_ROOT_ACCESS_KEY, E2E_ROOT_SECRET_KEY, presignUrl } from './testing/s3-stack.e2e-helper';

const MiB = 1024 * 1024;
/** A reserve no disk meets: the node is full without filling the real disk. */
const FULL = String(Number.MAX_SAFE_INTEGER);
/** No reserve: the node takes chunks whatever the disk. */
const ROOMY = '0';
/** Several chunks (1 MiB each in this region) and not a multiple of the chunk size. */
const LARGE_BYTES = 5 * MiB + 123;
/** Well below the inline limit (16 KiB): kept in metadata, no storage node involved. */
const SMALL_BYTES = 4 * 1024;
/** A refusal comes straight from the nodes' 507s: no timeout is waited out. */
const PROMPT_MS = 5_000;

interface Node {
  readonly instance: string;
  readonly port: number;
  readonly dataDir: string;
  process: ServiceProcess | null;
}

async function failure(call: Promise<unknown>): Promise<{ name: string; status?: number; message: string; attempts?: number; requestId?: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof S3ServiceException) {
      return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message, attempts: error.$metadata.attempts, requestId: error.$metadata.requestId };
    }
    throw error;
  }
  throw new Error('expected the request to fail');
}

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly req?: { readonly id?: string; readonly method?: string; readonly url?: string };
  readonly res?: { readonly statusCode?: number };
  readonly requestId?: string;
  readonly refusal?: string;
  readonly err?: unknown;
}

/** The JSON log lines in a stretch of output. */
function logLines(output: string): LogLine[] {
  return output.split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      return parsed && typeof parsed === 'object' && 'msg' in parsed ? [parsed as LogLine] : [];
    } catch {
      return [];
    }
  });
}

describe('what an S3 client sees when storage disks fill (metadata and three storage nodes as processes, the gateway)', () => {
  const namespace = testNamespace();
  const bucket = `full-${randomBytes(4).toString('hex')}`;
  const nodes: Node[] = [];
  let dataRoot = '';
  let metadata: ServiceProcess | undefined;
  let access: RunningService<AccessConfig> | undefined;
  let s3: S3Client;
  const stored = new Map<string, Buffer>();
  /** What this process (the gateway's logger) wrote on stdout. */
  let gatewayOutput = '';

  const startNode = async (node: Node, reserveBytes: string) => {
    node.process = await startServiceProcess({
      app: 'storage',
      env: { CAIRN_NS: namespace, CAIRN_INSTANCE: node.instance, CAIRN_DATA_DIR: node.dataDir, CAIRN_HTTP_PORT: String(node.port), CAIRN_STORAGE_RESERVE_BYTES: reserveBytes },
    });
  };
  /** Killed and started again in place (same port and data) with another reserve. */
  const restartNode = async (node: Node, reserveBytes: string) => {
    const child = node.process?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await startNode(node, reserveBytes);
  };
  const held = async (node: Node) => {
    const res = await signedFetch(`http://127.0.0.1:${node.port}/chunks?limit=10000`);
    return ((await res.json()) as { hashes: string[] }).hashes;
  };
  const put = (key: string, body: Buffer, client = s3) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const get = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);
  const expectAllReadBack = async () => {
    for (const [key, body] of stored) expect((await get(key)).equals(body)).toBe(true);
  };

  beforeAll(async () => {
    // The gateway's log lines, read by one specification; before it boots, so that its logger writes through here.
    const write = process.stdout.write.bind(process.stdout) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      gatewayOutput += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return write(chunk, ...rest);
    });
    dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-full-disk-e2e-'));
    metadata = await startServiceProcess({
      app: 'metadata',
      env: { CAIRN_NS: namespace, CAIRN_INSTANCE: 'metadata-e2e', CAIRN_ROOT_ACCESS_KEY: E2E_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: E2E_ROOT_SECRET_KEY },
    });
    for (let i = 1; i <= 3; i++) nodes.push({ instance: `storage-${i}`, port: await keptPort(), dataDir: path.join(dataRoot, `storage-${i}`), process: null });
    // storage-1 starts full; the others roomy.
    await Promise.all(nodes.map((node, i) => startNode(node, i === 0 ? FULL : ROOMY)));
    access = await bootForTest(AccessService, namespace, { CAIRN_CHUNK_SIZE_BYTES: String(E2E_CHUNK_SIZE_BYTES) });
    const rpc = access.app.get(RpcClient);
    await eventually(async () => {
      const reply = await rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}).catch(() => undefined);
      return reply && reply.nodes.length === nodes.length ? reply : undefined;
    }, 60_000);
    await eventually(() => rpc.request(METADATA_SERVICE, MetadataRpc.getAccessKey, { accessKeyId: E2E_ROOT_ACCESS_KEY }).then(() => true, () => false), 60_000, 100);
    // One attempt: what each answer is, not how retries end (one test looks at those).
    s3 = new S3Client({ endpoint: access.url, region: E2E_REGION, forcePathStyle: true, credentials: { accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY }, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    jest.restoreAllMocks();
    s3?.destroy();
    await access?.close();
    await Promise.all([...nodes.map((n) => n.process?.stop()), metadata?.stop()]);
    await dropNamespace(namespace);
    if (dataRoot) await fsp.rm(dataRoot, { recursive: true, force: true });
  }, 60_000);

  it('one node of three full: a large PUT is stored on the other two (the write quorum) at once and reads back byte for byte', async () => {
    const body = randomBytes(LARGE_BYTES);
    const started = Date.now();
    await put('large-1', body);
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    stored.set('large-1', body);
    expect((await get('large-1')).equals(body)).toBe(true);
    // Six chunks, each on the two roomy nodes; none on the full one.
    const chunks = await held(nodes[1]);
    expect(await held(nodes[0])).toEqual([]);
    expect(chunks.length).toBe(Math.ceil(LARGE_BYTES / E2E_CHUNK_SIZE_BYTES));
    expect((await held(nodes[2])).sort()).toEqual([...chunks].sort());
    // Each missed copy is recorded on CLUSTER for repair, with the node's own reason (not a reset);
    // the read that tried storage-1 first and fell over reported it too (read repair).
    const events = new JetStreamEventStore(access!.app.get(NatsConnectionManager), namespace);
    for (const hash of chunks) {
      const [written, ...read] = (await events.read(subjectsFor(namespace).chunkHealth(hash))).events.map((e) => e.envelope.data as { nodeId: string; reason: string });
      expect(written).toMatchObject({ nodeId: 'storage-1', reason: expect.stringContaining('HTTP 507 STORAGE_FULL') });
      for (const event of read) expect(event).toMatchObject({ nodeId: 'storage-1', reason: expect.stringContaining('read: HTTP 404') });
    }
  });

  it('two nodes of three full: a large PUT is refused with 503 ServiceUnavailable naming free space, and the key stays absent', async () => {
    await restartNode(nodes[1], FULL);
    const started = Date.now();
    const refused = await failure(put('large-2', randomBytes(LARGE_BYTES)));
    expect(Date.now() - started).toBeLessThan(PROMPT_MS);
    expect(refused).toMatchObject({ name: 'ServiceUnavailable', status: 503, message: expect.stringContaining('free space') });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large-2' })))).toMatchObject({ status: 404 });
    await expectAllReadBack();
  });

  describe('all nodes full', () => {
    beforeAll(async () => {
      await restartNode(nodes[2], FULL);
    }, 60_000);

    it('refuses a large PUT promptly with 503 ServiceUnavailable in S3 XML, to the SDK and to a plain HTTP client (not a reset, not a 500)', async () => {
      const started = Date.now();
      expect(await failure(put('large-3', randomBytes(LARGE_BYTES)))).toMatchObject({
        name: 'ServiceUnavailable',
        status: 503,
        message: 'Too few storage nodes have free space for this object: space must be freed or nodes added.',
      });
      expect(Date.now() - started).toBeLessThan(PROMPT_MS);

      // curl -T: a presigned PUT with a plain HTTP client still sending its body when the answer comes.
      const url = await presignUrl(access!.url, { accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY }, 'PUT', `/${bucket}/large-4`);
      const res = await fetch(url, { method: 'PUT', body: randomBytes(LARGE_BYTES) });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('xml');
      const xml = await res.text();
      expect(xml).toContain('<Code>ServiceUnavailable</Code>');
      expect(xml).toContain('free space');

      for (const key of ['large-3', 'large-4']) expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).toMatchObject({ status: 404 });
    });

    it('logs each refused PUT once, at warn with the reason and no stack, in the gateway and on the nodes: a full region is expected, not a fault', async () => {
      const from = gatewayOutput.length;
      const refused = await failure(put('large-7', randomBytes(LARGE_BYTES)));
      expect(refused).toMatchObject({ name: 'ServiceUnavailable', status: 503, requestId: expect.any(String) });
      await eventually(async () => logLines(gatewayOutput.slice(from)).some((line) => line.req?.id === refused.requestId), 5_000, 20);
      const gateway = logLines(gatewayOutput.slice(from));
      const aboutThePut = gateway.filter((line) => line.req?.id === refused.requestId || line.requestId === refused.requestId);
      expect(aboutThePut).toHaveLength(1);
      expect(aboutThePut[0]).toMatchObject({ level: 'warn', msg: 'request refused', res: { statusCode: 503 }, refusal: expect.stringContaining('HTTP 507 STORAGE_FULL') });
      expect(aboutThePut[0].err).toBeUndefined();
      expect(gateway.filter((line) => line.level === 'error')).toEqual([]);

      // Each node logged its chunk PUTs (all refused: every node is full here) as warn lines with the reason.
      for (const node of nodes) {
        const puts = logLines(node.process!.output()).filter((line) => line.req?.method === 'PUT' && line.req.url?.startsWith('/chunks/'));
        expect(puts.length).toBeGreaterThan(0);
        for (const line of puts) {
          expect(line).toMatchObject({ level: 'warn', msg: 'request refused', res: { statusCode: 507 }, refusal: expect.stringContaining('in reserve') });
          expect(line.err).toBeUndefined();
        }
      }
    });

    it('leaves an object that a refused PUT would have replaced as it was, and keeps serving what is stored', async () => {
      expect(await failure(put('large-1', randomBytes(LARGE_BYTES)))).toMatchObject({ name: 'ServiceUnavailable', status: 503 });
      await expectAllReadBack();
      expect((await keys()).sort()).toEqual([...stored.keys()].sort());
    });

    it('refuses a multipart part the same way', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts' }));
      expect(await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'parts', UploadId, PartNumber: 1, Body: randomBytes(2 * MiB) })))).toMatchObject({
        name: 'ServiceUnavailable',
        status: 503,
      });
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'parts', UploadId }));
    });

    it('still takes a small object: it is kept inline in metadata, not on the nodes', async () => {
      const body = randomBytes(SMALL_BYTES);
      await put('small', body);
      stored.set('small', body);
      expect((await get('small')).equals(body)).toBe(true);
    });

    it('an SDK with its default retries tries three times, backing off, then reports ServiceUnavailable', async () => {
      const retrying = new S3Client({ endpoint: access!.url, region: E2E_REGION, forcePathStyle: true, credentials: { accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY } });
      try {
        expect(await failure(put('large-5', randomBytes(LARGE_BYTES), retrying))).toMatchObject({ name: 'ServiceUnavailable', status: 503, attempts: 3 });
      } finally {
        retrying.destroy();
      }
    });
  });

  it('once space is freed (the nodes started again with a normal reserve), large PUTs work again', async () => {
    await Promise.all(nodes.map((node) => restartNode(node, ROOMY)));
    const body = randomBytes(LARGE_BYTES);
    await put('large-6', body);
    stored.set('large-6', body);
    await expectAllReadBack();
    expect((await keys()).sort()).toEqual([...stored.keys()].sort());
  }, 60_000);
});
