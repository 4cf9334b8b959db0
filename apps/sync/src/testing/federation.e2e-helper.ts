import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { FaultProxyClient } from '@cairn/fault-proxy';
import { NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, type ReplicationLagView } from '@cairn/protocol';
import { eventually, signedFetch, startServiceProcess, testClusterCredentials, testNamespace, testOperatorToken, type ServiceProcess } from '@cairn/testing';
import { Client } from 'pg';

export const FEDERATION_ROOT_ACCESS_KEY = 'CAIRNFEDROOTACCESSKEY';
export const FEDERATION_ROOT_SECRET_KEY = 'cairn-fed-root-secret-key-000000000000000';
const READY_TIMEOUT_MS = 90_000;
/** A link redials a silent source with back-off (10 s first): long enough for two redials and the set-up after them. */
const LINKS_TIMEOUT_MS = 90_000;
const REPO_ROOT = path.resolve(__dirname, '../../../..');
const CAIRN_LAUNCHER = path.join(REPO_ROOT, 'tools', 'cli', 'cairn.js');

interface RegionLayout {
  readonly name: string;
  readonly nats: { readonly url: string; readonly monitorPort: number };
}
interface Layout {
  readonly regions: readonly RegionLayout[];
  readonly proxy: { readonly controlUrl: string };
}
// Read as a file: apps do not depend on the tools project; the layout is start:regions' own.
const regionsJs = require(path.join(REPO_ROOT, 'tools', 'dev-stack', 'regions.js')) as {
  regionsLayout(o: { regions: number; root: string; portShift: number }): Layout;
  startFederation(layout: Layout): Promise<{ readonly processes: readonly { readonly name: string; readonly output: string }[]; stop(): Promise<void> }>;
};

/** One whole region of real processes: metadata, three storage nodes (STANDARD's replication factor), the S3 gateway and sync. */
export class FederatedRegion {
  readonly services = new Map<string, ServiceProcess>();
  nats!: NatsConnectionManager;
  rpc!: RpcClient;
  s3!: S3Client;

  constructor(
    readonly layout: RegionLayout,
    private readonly federation: TestFederation,
  ) {}

  get name(): string {
    return this.layout.name;
  }

  get databaseUrl(): string {
    return `postgres://postgres@127.0.0.1:5432/cairn_e2e_${this.name.replace(/-/g, '_')}`;
  }

  env(instance: string): Record<string, string> {
    return {
      CAIRN_NS: this.federation.namespace,
      CAIRN_REGION: this.name,
      CAIRN_INSTANCE: instance,
      CAIRN_NATS_URL: this.layout.nats.url,
      CAIRN_DATABASE_URL: this.databaseUrl,
      CAIRN_SYNC_PEERS: this.federation.regionNames.join(','),
    };
  }

  async start(): Promise<void> {
    await ensureDatabase(this.name, this.databaseUrl);
    this.nats = new NatsConnectionManager({ natsUrl: this.layout.nats.url, namespace: this.federation.namespace, region: this.name, serviceName: 'e2e', instance: `e2e-${this.name}` });
    this.rpc = new RpcClient(this.nats, this.federation.namespace, testClusterCredentials());
    const dataRoot = this.federation.dataDir(this.name);
    this.services.set(
      'metadata',
      await startServiceProcess({
        app: 'metadata',
        env: { ...this.env('metadata-1'), CAIRN_ROOT_ACCESS_KEY: FEDERATION_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: FEDERATION_ROOT_SECRET_KEY },
      }),
    );
    const nodes = await Promise.all(
      ['storage-1', 'storage-2', 'storage-3'].map((node) =>
        startServiceProcess({
          app: 'storage',
          env: { ...this.env(node), CAIRN_DATA_DIR: path.join(dataRoot, node), CAIRN_STORAGE_ZONE: 'zone-1', CAIRN_STORAGE_HOST: node },
        }),
      ),
    );
    nodes.forEach((n, i) => this.services.set(`storage-${i + 1}`, n));
    await eventually(async () => {
      const reply = await this.rpc.request<{ nodes: unknown[] }>(METADATA_SERVICE, MetadataRpc.listNodes, {}).catch(() => undefined);
      return reply && reply.nodes.length === 3;
    }, READY_TIMEOUT_MS, 200);
    const access = await startServiceProcess({
      app: 'access',
      // One keyring for the federation, as start:regions has: replicated encrypted objects decrypt anywhere.
      env: { ...this.env('access-1'), CAIRN_CHUNK_SIZE_BYTES: String(256 * 1024), CAIRN_MASTER_KEY_FILE: this.federation.keyringFile, CAIRN_MASTER_KEY_CREATE: 'true' },
    });
    this.services.set('access', access);
    await this.startSync();
    this.s3 = new S3Client({
      endpoint: access.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: FEDERATION_ROOT_ACCESS_KEY, secretAccessKey: FEDERATION_ROOT_SECRET_KEY },
      maxAttempts: 1,
    });
    await eventually(() => this.rpc.request(METADATA_SERVICE, MetadataRpc.getAccessKey, { accessKeyId: FEDERATION_ROOT_ACCESS_KEY }).then(() => true, () => false), READY_TIMEOUT_MS, 200);
  }

  async startSync(): Promise<ServiceProcess> {
    const sync = await startServiceProcess({ app: 'sync', env: { ...this.env('sync-1'), CAIRN_CONTROL_DIR: path.join(this.federation.dataDir(this.name), 'sync-control') } });
    this.services.set('sync', sync);
    return sync;
  }

  /**
   * Until this region's sync says its links from `sources` are connected (what an operator waits on
   * with `cairn replication lag`); on a timeout, what each link said: its state and last error.
   */
  async linksConnected(sources: readonly string[], timeoutMs = LINKS_TIMEOUT_MS): Promise<void> {
    let lastSeen: unknown = null;
    await eventually(async () => {
      const views = await this.syncApi<ReplicationLagView[]>('/replication/lag').catch((error: unknown) => String(error));
      lastSeen = views;
      return typeof views !== 'string' && sources.every((source) => views.some((v) => v.source === source && v.connected));
    }, timeoutMs, 250).catch((error: unknown) => {
      throw new Error(`links from ${sources.join(', ')} into ${this.name} not connected: ${String(error)}; sync says ${JSON.stringify(lastSeen)}`);
    });
  }

  /** kill -9 of a service process. */
  async kill(service: string): Promise<void> {
    const child = this.services.get(service)?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.services.delete(service);
  }

  /** sync's HTTP API with an operator token. */
  async syncApi<T>(pathAndQuery: string): Promise<T> {
    const sync = this.services.get('sync');
    if (!sync) throw new Error(`sync of ${this.name} is not running`);
    const res = await signedFetch(`${sync.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${testOperatorToken('admin')}` } });
    if (!res.ok) throw new Error(`GET ${pathAndQuery}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async stop(): Promise<void> {
    // CAIRN_E2E_LOG_DIR=/some/dir keeps every process's last output, to see why a run failed.
    const logDir = process.env['CAIRN_E2E_LOG_DIR'];
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      for (const [name, service] of this.services) writeFileSync(path.join(logDir, `${this.name}-${name}.log`), service.output());
    }
    await Promise.allSettled([...this.services.values()].map((s) => s.stop()));
    this.services.clear();
    this.s3?.destroy();
    await this.nats?.close();
  }
}

/**
 * Regions as `npm run start:regions` lays them out (tools/dev-stack/regions.js): each its own NATS
 * server with JetStream in its own domain, joined through the hub by links through the fault
 * proxy, its own Postgres database — on shifted ports, and services started per region on demand.
 */
export class TestFederation {
  readonly namespace = testNamespace();
  readonly root = mkdtempSync(path.join(tmpdir(), 'cairn-federation-'));
  readonly layout: Layout;
  readonly regions: FederatedRegion[];
  proxy!: FaultProxyClient;
  private nats: { readonly processes: readonly { readonly name: string; readonly output: string }[]; stop(): Promise<void> } | null = null;

  constructor(regionCount: number, portShift: number) {
    this.layout = regionsJs.regionsLayout({ regions: regionCount, root: this.root, portShift });
    this.regions = this.layout.regions.map((r) => new FederatedRegion(r, this));
  }

  get regionNames(): string[] {
    return this.layout.regions.map((r) => r.name);
  }

  dataDir(region: string): string {
    return path.join(this.root, region, 'data');
  }

  get keyringFile(): string {
    return path.join(this.root, 'keyring.json');
  }

  region(name: string): FederatedRegion {
    const found = this.regions.find((r) => r.name === name);
    if (!found) throw new Error(`no region ${name}`);
    return found;
  }

  async startNats(): Promise<void> {
    this.nats = await regionsJs.startFederation(this.layout);
    this.proxy = new FaultProxyClient(this.layout.proxy.controlUrl);
    for (const region of this.layout.regions) {
      await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${region.nats.monitorPort}/leafz`).catch(() => undefined);
        return res ? ((await res.json()) as { leafnodes: number }).leafnodes === 1 : false;
      }, 30_000, 100);
    }
  }

  /**
   * A CLI profile listing every region (endpoints, an admin token, the root S3 keys) and the fault
   * proxy, as start:regions writes .cairn/regions/profile.json; the top level is `region`'s.
   */
  writeProfile(region = this.regionNames[0]): string {
    const regions = Object.fromEntries(
      this.regions.map((r) => [
        r.name,
        {
          region: r.name,
          endpoints: { access: r.services.get('access')!.url, metadata: r.services.get('metadata')!.url, sync: r.services.get('sync')!.url },
          operatorToken: testOperatorToken('admin'),
          s3: { endpoint: r.services.get('access')!.url, accessKeyId: FEDERATION_ROOT_ACCESS_KEY, secretAccessKey: FEDERATION_ROOT_SECRET_KEY },
        },
      ]),
    );
    const file = path.join(this.root, 'profile.json');
    writeFileSync(file, JSON.stringify({ ...regions[region], faultProxy: this.layout.proxy.controlUrl, regions }), { mode: 0o600 });
    return file;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.regions.map((r) => r.stop()));
    // The NATS servers' and the fault proxy's last output too (CAIRN_E2E_LOG_DIR, as each region's services).
    const logDir = process.env['CAIRN_E2E_LOG_DIR'];
    if (logDir && this.nats) {
      mkdirSync(logDir, { recursive: true });
      for (const p of this.nats.processes) writeFileSync(path.join(logDir, `${p.name}.log`), p.output);
    }
    await this.nats?.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function ensureDatabase(region: string, url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`).catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error;
    });
  } finally {
    await client.end();
  }
  void region;
}

/** One version or delete marker of a bucket as ListObjectVersions shows it. */
export interface VersionLine {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly etag: string | null;
}

/** Every version and delete marker of a bucket, all pages, sorted by key and version id (comparable across regions). */
export async function versionsOf(s3: S3Client, bucket: string): Promise<VersionLine[]> {
  const out: VersionLine[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId!, isLatest: v.IsLatest === true, deleteMarker: false, etag: v.ETag?.replaceAll('"', '') ?? null });
    for (const m of page.DeleteMarkers ?? []) out.push({ key: m.Key!, versionId: m.VersionId!, isLatest: m.IsLatest === true, deleteMarker: true, etag: null });
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  return out.sort((a, b) => `${a.key}\n${a.versionId}`.localeCompare(`${b.key}\n${b.versionId}`));
}

/** `cairn …` as an operator runs it: a child process, with no CAIRN_ or AWS_ settings of the caller's. */
export function runCairn(args: readonly string[], timeoutMs = 300_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAIRN_') && !k.startsWith('AWS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [CAIRN_LAUNCHER, ...args], { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}
