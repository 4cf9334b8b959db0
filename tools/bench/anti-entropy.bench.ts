/**
 * npm run bench:anti-entropy — one anti-entropy run of a bucket of 100,000 keys with 100 differences
 * between two regions on this machine (docs/anti-entropy.md):
 *  - two regions as start:regions lays them out (their own nats-server in their own JetStream
 *    domain, joined through the hub and the fault proxy, their own Postgres database), each with
 *    its metadata service; region-1 also runs sync, which answers region-2's tree and key-event
 *    requests over the link (CAIRN_SYNC_PEERS empty there, so it replicates nothing by itself);
 *  - the bucket is replicated (active-active): created in region-1, its events applied in region-2;
 *  - BENCH_AE_KEYS − BENCH_AE_DIFFERENCES keys bulk-loaded into both regions' projections (the trees
 *    are built from the projection, so rows are what a comparison reads), plus
 *    BENCH_AE_DIFFERENCES keys written in region-1 through metadata (real events, inline bodies),
 *    which region-2 lacks;
 *  - region-2's anti-entropy (AntiEntropyService.runPair, the code the service runs) compares with
 *    region-1 and pulls the missing keys; timed end to end, then a second run with nothing to do.
 *
 * `-- --keys N --differences D` (or BENCH_AE_KEYS / BENCH_AE_DIFFERENCES) for other sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { JetStreamEventStore, NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, subjectsFor, type ApplyReplicatedReply, type PutObjectReply } from '@cairn/protocol';
import { MetricsService, WorkerRegistry, type ServiceIdentity } from '@cairn/service-kit';
import { eventually, startServiceProcess, testNamespace, type ServiceProcess } from '@cairn/testing';
import { Client } from 'pg';
import { benchCredentials } from './bench-credentials';
import { AntiEntropyService } from '../../apps/sync/src/anti-entropy/anti-entropy.service';
import { NoChunkPuller } from '../../apps/sync/src/anti-entropy/replica-chunks.port';
import { ReplicaTrees } from '../../apps/sync/src/anti-entropy/replica-trees';

const credentials = benchCredentials('bench/anti-entropy');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const KEYS = Number(arg('keys') ?? process.env['BENCH_AE_KEYS'] ?? 100_000);
const DIFFERENCES = Number(arg('differences') ?? process.env['BENCH_AE_DIFFERENCES'] ?? 100);
/** Clear of start:regions (0) and of the tests' shifts (31_000…45_000). */
const PORT_SHIFT = Number(process.env['BENCH_AE_PORT_SHIFT'] ?? 47_000);
const BUCKET = 'ae-bench';
const RPC_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 60_000;
const POSTGRES = 'postgres://postgres@127.0.0.1:5432';

interface Layout {
  readonly regions: readonly { readonly name: string; readonly nats: { readonly url: string; readonly monitorPort: number } }[];
}
const regionsJs = require('../dev-stack/regions.js') as {
  regionsLayout(o: { regions: number; root: string; portShift: number }): Layout;
  startFederation(layout: Layout): Promise<{ stop(): Promise<void> }>;
};

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  if (!(KEYS > DIFFERENCES && DIFFERENCES >= 0)) throw new Error('need keys > differences >= 0');
  const ns = testNamespace();
  const root = mkdtempSync(path.join(tmpdir(), 'cairn-ae-bench-'));
  const layout = regionsJs.regionsLayout({ regions: 2, root, portShift: PORT_SHIFT });
  const [r1, r2] = layout.regions;
  const databases = layout.regions.map((r) => `cairn_bench_ae_${r.name.replace(/-/g, '_')}`);
  const processes: ServiceProcess[] = [];
  const connections: NatsConnectionManager[] = [];
  let federation: { stop(): Promise<void> } | undefined;
  const admin = new Client({ connectionString: `${POSTGRES}/postgres` });
  await admin.connect();
  try {
    for (const db of databases) {
      await admin.query(`DROP DATABASE IF EXISTS "${db}"`);
      await admin.query(`CREATE DATABASE "${db}"`);
    }
    console.log(`anti-entropy bench: ${KEYS.toLocaleString('en')} keys, ${DIFFERENCES} differences, two regions (namespace ${ns})`);
    federation = await regionsJs.startFederation(layout);
    for (const r of layout.regions) {
      await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${r.nats.monitorPort}/leafz`).catch(() => undefined);
        return res ? ((await res.json()) as { leafnodes: number }).leafnodes === 1 : false;
      }, 30_000, 100);
    }
    const env = (i: number, instance: string) => ({
      CAIRN_NS: ns,
      CAIRN_REGION: layout.regions[i].name,
      CAIRN_INSTANCE: instance,
      CAIRN_NATS_URL: layout.regions[i].nats.url,
      CAIRN_DATABASE_URL: `${POSTGRES}/${databases[i]}`,
      CAIRN_LOG_LEVEL: 'info',
    });
    processes.push(...(await Promise.all([startServiceProcess({ app: 'metadata', env: env(0, 'metadata-1') }), startServiceProcess({ app: 'metadata', env: env(1, 'metadata-1') })])));
    processes.push(await startServiceProcess({ app: 'sync', env: { ...env(0, 'sync-1'), CAIRN_SYNC_PEERS: '' } }));
    const nats = layout.regions.map((r) => new NatsConnectionManager({ natsUrl: r.nats.url, namespace: ns, region: r.name, serviceName: 'sync', instance: 'bench' }));
    connections.push(...nats);
    const rpc = nats.map((n) => new RpcClient(n, ns, credentials));
    const call = <T>(i: number, pattern: string, payload: unknown) => rpc[i].request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });

    // The bucket, replicated: created in region-1, its events applied in region-2 as replication would.
    await call(0, MetadataRpc.createBucket, { bucket: BUCKET, owner: 'bench', versioningEnabled: true, replication: { mode: 'active-active' } });
    const history = await new JetStreamEventStore(nats[0], ns).read(subjectsFor(ns).bucket(BUCKET));
    for (const e of history.events) {
      await call<ApplyReplicatedReply>(1, MetadataRpc.applyReplicated, { sourceRegion: r1.name, sourceSequence: e.sequence, envelope: e.envelope });
    }
    await eventually(() => call(1, MetadataRpc.getBucket, { bucket: BUCKET }).then(() => true, () => false), READY_TIMEOUT_MS, 200);

    // The keys both regions hold, straight into each projection.
    const loadStarted = Date.now();
    const common = KEYS - DIFFERENCES;
    for (const db of databases) {
      const client = new Client({ connectionString: `${POSTGRES}/${db}` });
      await client.connect();
      try {
        const schema = `"cairn_${ns.toLowerCase()}"`;
        await client.query(
          `INSERT INTO ${schema}.object_versions (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, hlc, last_modified)
           SELECT $1, encode(sha256(convert_to('common/' || i, 'UTF8')), 'hex'), 'v' || i, 'common/' || i, 1000000 + i, true, false, 10, md5('common/' || i), 'h', now()
           FROM generate_series(1, $2) AS i`,
          [BUCKET, common],
        );
        await client.query(`ANALYZE ${schema}.object_versions`);
      } finally {
        await client.end();
      }
    }
    // The differences: real writes in region-1 (inline bodies: nothing to pull from storage).
    let last = 0;
    for (let i = 0; i < DIFFERENCES; i++) {
      const body = `only in region-1: ${i}`;
      const put = await call<PutObjectReply>(0, MetadataRpc.putObject, {
        bucket: BUCKET,
        key: `diff/${i}`,
        sizeBytes: Buffer.byteLength(body),
        etag: md5(body),
        chunks: [{ hash: sha256(body), offsetBytes: 0, sizeBytes: Buffer.byteLength(body), inline: Buffer.from(body).toString('base64') }],
      });
      last = put.sequence;
    }
    await call(0, MetadataRpc.listObjectsV2, { bucket: BUCKET, maxKeys: 1, minSequence: last });
    console.log(`loaded in ${seconds(Date.now() - loadStarted)}: ${common.toLocaleString('en')} keys in both regions, ${DIFFERENCES} only in region-1`);

    // Region-2's anti-entropy, as the sync service runs it (no lease: this process is the only one).
    const identity: ServiceIdentity = { service: 'sync', instance: 'sync-bench', region: r2.name, namespace: ns, version: 'bench' };
    const antiEntropy = new AntiEntropyService(
      rpc[1],
      nats[1],
      credentials,
      new ReplicaTrees(rpc[1]),
      undefined as never,
      new WorkerRegistry(),
      new MetricsService(),
      identity,
      { intervalMs: 0, probeMs: 5_000, lease: 'none', requestTimeoutMs: RPC_TIMEOUT_MS, peers: [r1.name] },
      new NoChunkPuller(),
    );
    const signal = new AbortController().signal;
    const started = Date.now();
    const report = await antiEntropy.runPair(BUCKET, r1.name, 'operator', signal);
    const firstMs = Date.now() - started;
    if (report.state !== 'done' || report.errorCount > 0) throw new Error(`the run failed: ${JSON.stringify(report)}`);
    console.log(
      `anti-entropy run, ${DIFFERENCES} differences: ${seconds(firstMs)} — ranges compared ${report.rangesCompared}, listed ${report.rangesListed}, keys differing ${report.keysDiffering}, events applied ${report.eventsApplied}, keys here ${report.keysLocal} / peer ${report.keysPeer}`,
    );
    // Region-2's projection applies the repaired keys' events as they come: the next run is in sync once it has.
    const again = Date.now();
    const second = await eventually(async () => {
      const r = await antiEntropy.runPair(BUCKET, r1.name, 'operator', signal);
      return r.inSync ? r : undefined;
    }, READY_TIMEOUT_MS, 500);
    console.log(`anti-entropy run, in sync: ${seconds(second.durationMs ?? Date.now() - again)} — ranges compared ${second.rangesCompared} (both trees built from ${KEYS.toLocaleString('en')} keys each time)`);
  } finally {
    await Promise.allSettled(connections.map((c) => c.close()));
    await Promise.allSettled(processes.map((p) => p.stop()));
    await federation?.stop();
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
