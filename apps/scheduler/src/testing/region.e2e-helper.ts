import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ringMembers } from '@cairn/chunk-client';
import { HashRing, type ContentHash } from '@cairn/hashing';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, type ListChunkReferencesReply, type ListNodesReply } from '@cairn/protocol';
import { dropNamespace, eventually, keptPort, signedFetch, startServiceProcess, testClusterCredentials, testOperatorToken, testNamespace, TEST_NATS_URL, type ServiceProcess } from '@cairn/testing';

export const E2E_ROOT_ACCESS_KEY = 'CAIRNE2EROOTACCESSKEY';
export const E2E_ROOT_SECRET_KEY = 'cairn-e2e-root-secret-key-0000000000000';
export const E2E_CHUNK_SIZE_BYTES = 1024 * 1024;
const READY_TIMEOUT_MS = 60_000;

export interface StorageNodeHandle {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly port: number;
  readonly url: string;
  process: ServiceProcess | null;
}

/**
 * A whole region as real processes for the scheduler's end-to-end tests: metadata, a one-replica
 * lock-manager, storage nodes on fixed ports (so a restarted node keeps its address), an access
 * gateway, and scheduler instances, all in one test namespace.
 */
export class TestRegion {
  readonly namespace = testNamespace();
  readonly nodes = new Map<string, StorageNodeHandle>();
  readonly schedulers = new Map<string, ServiceProcess>();
  private readonly services: ServiceProcess[] = [];
  private dataRoot = '';
  private access: ServiceProcess | null = null;
  private nats: NatsConnectionManager | null = null;
  rpc!: RpcClient;
  s3!: S3Client;

  /**
   * accessEnv: settings the gateway shares with the schedulers (CAIRN_EC_*, say); regionEnv:
   * settings every process of the region is given (CAIRN_REPLICATION_FACTOR).
   */
  constructor(
    private readonly schedulerEnv: Record<string, string>,
    private readonly options: { readonly accessEnv?: Record<string, string>; readonly regionEnv?: Record<string, string> } = {},
  ) {}

  async start(storageNodes: number): Promise<void> {
    this.dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-scheduler-e2e-'));
    this.nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: this.namespace, region: 'region-1', serviceName: 'e2e', instance: 'e2e' });
    this.rpc = new RpcClient(this.nats, this.namespace, testClusterCredentials());
    const base = { ...this.options.regionEnv, CAIRN_NS: this.namespace };
    const [metadata, locks] = await Promise.all([
      startServiceProcess({ app: 'metadata', env: { ...base, CAIRN_INSTANCE: 'metadata-1', CAIRN_ROOT_ACCESS_KEY: E2E_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: E2E_ROOT_SECRET_KEY } }),
      startServiceProcess({ app: 'lock-manager', env: { ...base, CAIRN_INSTANCE: 'lock-manager-1', CAIRN_DATA_DIR: path.join(this.dataRoot, 'lock-manager-1') } }),
    ]);
    this.services.push(metadata, locks);
    await Promise.all(Array.from({ length: storageNodes }, (_, i) => this.startNode(`storage-${i + 1}`)));
    await this.waitForMembers(storageNodes);
    this.access = await startServiceProcess({ app: 'access', env: { ...base, CAIRN_INSTANCE: 'access-1', CAIRN_CHUNK_SIZE_BYTES: String(E2E_CHUNK_SIZE_BYTES), ...this.options.accessEnv } });
    this.services.push(this.access);
    this.s3 = new S3Client({
      endpoint: this.access.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY },
      maxAttempts: 1,
    });
    await eventually(() => this.rpc.request(METADATA_SERVICE, MetadataRpc.getAccessKey, { accessKeyId: E2E_ROOT_ACCESS_KEY }).then(() => true, () => false), READY_TIMEOUT_MS, 100);
  }

  async startScheduler(instance: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const scheduler = await startServiceProcess({ app: 'scheduler', env: { ...this.options.regionEnv, CAIRN_NS: this.namespace, CAIRN_INSTANCE: instance, ...this.schedulerEnv, ...env } });
    this.schedulers.set(instance, scheduler);
    return scheduler;
  }

  /** The S3 gateway's address. */
  get accessUrl(): string {
    return this.access!.url;
  }

  /** The metadata process's HTTP address (its admin API). */
  get metadataUrl(): string {
    return this.services[0].url;
  }

  /** The pid of a running service of this region by its instance name (metadata-1, storage-2…). */
  pidOf(instance: string): number | undefined {
    const all = [...this.services, ...this.schedulers.values(), ...[...this.nodes.values()].map((n) => n.process)];
    return all.find((s) => s?.instance === instance)?.child.pid;
  }

  scheduler(instance = 'scheduler-1'): ServiceProcess {
    const s = this.schedulers.get(instance);
    if (!s) throw new Error(`no scheduler ${instance}`);
    return s;
  }

  async startNode(nodeId: string): Promise<StorageNodeHandle> {
    let node = this.nodes.get(nodeId);
    if (!node) {
      // Restarted on the same port: drawn where outgoing connections never take a port.
      const port = await keptPort();
      node = { nodeId, dataDir: path.join(this.dataRoot, nodeId), port, url: `http://127.0.0.1:${port}`, process: null };
      this.nodes.set(nodeId, node);
    }
    node.process = await startServiceProcess({
      app: 'storage',
      env: { ...this.options.regionEnv, CAIRN_NS: this.namespace, CAIRN_INSTANCE: nodeId, CAIRN_DATA_DIR: node.dataDir, CAIRN_HTTP_PORT: String(node.port), CAIRN_STORAGE_ZONE: 'zone-1', CAIRN_STORAGE_HOST: nodeId },
    });
    return node;
  }

  async stopNode(nodeId: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const node = this.nodes.get(nodeId);
    const child = node?.process?.child;
    if (!node || !child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    node.process = null;
  }

  async waitForMembers(count: number): Promise<ListNodesReply> {
    return eventually(async () => {
      const reply = await this.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}).catch(() => undefined);
      return reply && reply.nodes.length === count ? reply : undefined;
    }, READY_TIMEOUT_MS);
  }

  /** Every chunk metadata references (not inline), with its replication factor. */
  async references(): Promise<ListChunkReferencesReply['chunks']> {
    const out: ListChunkReferencesReply['chunks'][number][] = [];
    let after = '';
    for (;;) {
      const page = await this.rpc.request<ListChunkReferencesReply>(METADATA_SERVICE, MetadataRpc.listChunkReferences, { after, limit: 10_000 });
      out.push(...page.chunks);
      if (!page.nextAfter) return out;
      after = page.nextAfter;
    }
  }

  /** The hashes a running node holds, from its own listing. */
  async held(nodeId: string): Promise<Set<string>> {
    const node = this.nodes.get(nodeId)!;
    const out = new Set<string>();
    let after = '';
    for (;;) {
      const res = await signedFetch(`${node.url}/chunks?limit=10000${after ? `&after=${after}` : ''}`);
      const page = (await res.json()) as { hashes: string[]; nextAfter: string | null };
      for (const h of page.hashes) out.add(h);
      if (!page.nextAfter) return out;
      after = page.nextAfter;
    }
  }

  /** How many running nodes hold each referenced chunk. */
  async copiesOfReferenced(nodeIds: readonly string[]): Promise<Map<string, number>> {
    const [refs, holdings] = await Promise.all([this.references(), Promise.all(nodeIds.map((n) => this.held(n)))]);
    return new Map(refs.map((r) => [r.hash, holdings.filter((h) => h.has(r.hash)).length]));
  }

  /**
   * True when every referenced chunk is held by exactly the nodes the current ring names for it
   * (no copy missing, none left over), among the running nodes given.
   */
  async placementIsExact(nodeIds: readonly string[]): Promise<boolean> {
    const [{ epoch, nodes }, refs, holdings] = await Promise.all([
      this.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}),
      this.references(),
      Promise.all(nodeIds.map(async (n) => [n, await this.held(n)] as const)),
    ]);
    const ring = HashRing.build({ epoch, members: ringMembers(nodes) });
    return refs.every((r) => {
      const expected = ring
        .replicasFor(r.hash as ContentHash, Math.min(r.replicationFactor, ring.members.length))
        .map((m) => m.nodeId)
        .sort();
      const holders = holdings.filter(([, h]) => h.has(r.hash)).map(([n]) => n).sort();
      return expected.length === holders.length && expected.every((n, i) => n === holders[i]);
    });
  }

  /** The operator's credential for the admin API, as the CLI would hold it. */
  readonly operatorToken = testOperatorToken('admin');

  async admin<T = unknown>(method: string, pathAndQuery: string, body?: unknown, instance = 'scheduler-1'): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.scheduler(instance).url}${pathAndQuery}`, {
      method,
      headers: { authorization: `Bearer ${this.operatorToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async put(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  async stop(): Promise<void> {
    this.s3?.destroy();
    await Promise.all([...this.schedulers.values()].map((s) => s.stop()));
    await Promise.all([...this.nodes.values()].map((n) => n.process?.stop()));
    await Promise.all(this.services.map((s) => s.stop()));
    await this.nats?.close();
    await dropNamespace(this.namespace);
    if (this.dataRoot) await fsp.rm(this.dataRoot, { recursive: true, force: true });
  }
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function chunkFileOf(dataDir: string, hash: string): string {
  return path.join(dataDir, 'chunks', hash.slice(0, 2), hash.slice(2, 4), hash);
}

