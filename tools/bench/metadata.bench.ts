/**
 * npm run bench:metadata — the metadata command and query paths over real NATS JetStream and
 * Postgres, with a metadata service booted in-process in a private namespace:
 *  - PutObject commands/s and latency p50/p99: sequential, 32 concurrent on distinct keys, 32 on one hot key;
 *  - projection lag (events behind, sampled) p99 while the puts run, and put → read-your-write delay;
 *  - ListObjectsV2 of 1000 keys from a 1,000,000-key bucket (rows bulk-loaded into the projection):
 *    p50/p95/p99 over 200 listings from start points drawn across the bucket, with and without a
 *    prefix, with a delimiter that yields only keys, and apart, 1000 common prefixes (a folder of
 *    folders); CPU per listing of this process and of the Postgres backends;
 *  - the raw JetStream append rate, same message size, with the expected-subject-sequence header,
 *    sequential and 32 concurrent, in the same run, and the ratio of each put figure to it.
 * `-- --only listing` runs the listings alone.
 */
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { RpcClient, NatsConnectionManager } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, subjectsFor, wrapEvent, type ProjectionStatusReply, type PutObjectReply, type PutObjectRequest } from '@cairn/protocol';
import { PostgresConnection } from '@cairn/service-kit';
import { bootForTest, dropNamespace, testNamespace, TEST_NATS_URL } from '@cairn/testing';
import { benchCredentials } from './bench-credentials';

// The service booted here signs and checks with the development cluster secret.
benchCredentials('bench/metadata');
import { DiscardPolicy, headers as natsHeaders, JSONCodec, RetentionPolicy, StorageType } from 'nats';
import { MetadataService } from '../../apps/metadata/src/service';
import { cpuSecondsOf, pidsNamed } from './process-cpu';

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });
const ONLY = args.only;
if (ONLY !== undefined && ONLY !== 'listing') throw new Error(`--only takes listing, not ${ONLY}`);

const SEQUENTIAL_PUTS = Number(process.env['BENCH_SEQUENTIAL_PUTS'] ?? 400);
const CONCURRENT_PUTS = Number(process.env['BENCH_CONCURRENT_PUTS'] ?? 2000);
const HOT_KEY_PUTS = Number(process.env['BENCH_HOT_KEY_PUTS'] ?? 600);
const CONCURRENCY = 32;
const LARGE_BUCKET_KEYS = Number(process.env['BENCH_LARGE_BUCKET_KEYS'] ?? 1_000_000);
/** Listings per case; the three cases of 1000 keys together make the ≥200 the p99 is read from. */
const LIST_SAMPLES_FROM_ANYWHERE = 100;
const LIST_SAMPLES_UNDER_PREFIX = 50;
const LIST_SAMPLES_DELIMITED = 50;
const LIST_SAMPLES_FOLDERS = 20;
const LIST_PAGE_KEYS = 1000;
/** A folder of folders beside the large bucket's keys: this many folders of FILES_PER_FOLDER keys. */
const FOLDERS = 5000;
const FILES_PER_FOLDER = 2;
/** Start points are drawn from a fixed seed so two runs list the same pages. */
const LIST_SEED = 16;
const RYW_SAMPLES = 200;
const RAW_SEQUENTIAL = 2000;
const RAW_CONCURRENT = 6000;
const LAG_SAMPLE_MS = 50;
const RPC_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 120_000;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function putRequest(bucket: string, key: string, i: number): PutObjectRequest {
  const content = `bench body ${key} ${i}`;
  const size = 8 * 1024 * 1024;
  return { bucket, key, sizeBytes: size, etag: md5(content), chunks: [{ hash: sha256(content), offsetBytes: 0, sizeBytes: size }], contentType: 'application/octet-stream' };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Run {
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU per operation of this process (service, projection and driver share it) and of nats-server. */
  readonly cpuMsPerOp: number;
  readonly natsCpuMsPerOp: number;
}

/** user + system CPU seconds so far of every nats-server process (0 where there is none). */
function natsServerCpuSeconds(): number {
  return pidsNamed(['nats-server']).reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
}

async function runPool(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const natsBefore = natsServerCpuSeconds();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t0 = process.hrtime.bigint();
        await op(i);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const natsCpuMsPerOp = ((natsServerCpuSeconds() - natsBefore) * 1000) / total;
  latencies.sort((a, b) => a - b);
  return { opsPerSecond: total / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), cpuMsPerOp: (cpu.user + cpu.system) / 1000 / total, natsCpuMsPerOp };
}

const fmt = (r: Run) =>
  `${r.opsPerSecond.toFixed(0).padStart(6)} ops/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   CPU/op ${r.cpuMsPerOp.toFixed(2)} ms here + ${r.natsCpuMsPerOp.toFixed(2)} ms nats-server`;

interface ListingCase {
  readonly name: string;
  readonly samples: number;
  /** The request of sample i; `draw` gives a number in [0, 1) from the run's fixed seed. */
  readonly request: (draw: () => number) => Record<string, unknown>;
  /** Entries (keys and common prefixes) a full page has. */
  readonly pageEntries: number;
}

const keyName = (n: number) => `k/${String(n).padStart(7, '0')}`;
const folderName = (n: number) => `d/${String(n).padStart(5, '0')}/`;

/** A small linear congruential generator: the same start points on every run. */
function seededDraws(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function latencyLine(name: string, sortedMs: readonly number[], cpuMsPerListing: number, postgresCpuMsPerListing: number): string {
  const p = (q: number) => percentile(sortedMs, q).toFixed(2);
  return `  ${name} (${sortedMs.length}): p50 ${p(50)} ms  p95 ${p(95)} ms  p99 ${p(99)} ms  max ${sortedMs.at(-1)?.toFixed(2)} ms   CPU/listing ${cpuMsPerListing.toFixed(2)} ms here + ${postgresCpuMsPerListing.toFixed(2)} ms Postgres`;
}

/**
 * ListObjectsV2 pages over a bucket of LARGE_BUCKET_KEYS keys (k/0000001…) and FOLDERS folders
 * (d/00000/…): the rows are bulk-loaded into the projection (a million commands would take the run
 * hours); the query path measured is the service's, over RPC.
 */
async function measureListings(call: <T>(pattern: string, payload: unknown) => Promise<T>, postgres: PostgresConnection): Promise<string[]> {
  await call(MetadataRpc.createBucket, { bucket: 'large', owner: 'bench' });
  const ds = await postgres.ready();
  const schema = (ds.options as { schema: string }).schema;
  const loadStarted = Date.now();
  const insertRows = (keyExpression: string, count: number, firstSequence: number) =>
    ds.query(
      `INSERT INTO "${schema}"."object_versions" (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, storage_class, hlc, last_modified)
       SELECT 'large', encode(sha256(convert_to(${keyExpression}, 'UTF8')), 'hex'), 'null', ${keyExpression}, $2 + g, true, false, 1024,
              md5(g::text), 'STANDARD', '000000000000-0000', now()
       FROM generate_series(1, $1) AS g`,
      [count, firstSequence],
    );
  await insertRows(`'k/' || lpad(g::text, 7, '0')`, LARGE_BUCKET_KEYS, 0);
  await insertRows(`'d/' || lpad(((g - 1) / ${FILES_PER_FOLDER})::text, 5, '0') || '/' || ((g - 1) % ${FILES_PER_FOLDER})::text`, FOLDERS * FILES_PER_FOLDER, LARGE_BUCKET_KEYS);
  await ds.query(`ANALYZE "${schema}"."object_versions"`);
  const loadSeconds = (Date.now() - loadStarted) / 1000;

  const prefixes = 100; // k/000…k/099: 10,000 keys under each
  const cases: readonly ListingCase[] = [
    { name: 'start-after anywhere, no prefix', samples: LIST_SAMPLES_FROM_ANYWHERE, pageEntries: LIST_PAGE_KEYS, request: (draw) => ({ startAfter: keyName(Math.floor(draw() * (LARGE_BUCKET_KEYS - LIST_PAGE_KEYS))) }) },
    {
      name: 'under a prefix of 10,000 keys, start-after inside it',
      samples: LIST_SAMPLES_UNDER_PREFIX,
      pageEntries: LIST_PAGE_KEYS,
      request: (draw) => {
        const prefix = `k/${String(Math.floor(draw() * prefixes)).padStart(3, '0')}`;
        return { prefix, startAfter: `${prefix}${String(Math.floor(draw() * (10_000 - LIST_PAGE_KEYS))).padStart(4, '0')}` };
      },
    },
    { name: 'prefix k/ delimiter / (keys only), start-after anywhere', samples: LIST_SAMPLES_DELIMITED, pageEntries: LIST_PAGE_KEYS, request: (draw) => ({ prefix: 'k/', delimiter: '/', startAfter: keyName(Math.floor(draw() * (LARGE_BUCKET_KEYS - LIST_PAGE_KEYS))) }) },
  ];
  const folders: ListingCase = {
    name: `prefix d/ delimiter /: ${LIST_PAGE_KEYS} common prefixes of ${FOLDERS}`,
    samples: LIST_SAMPLES_FOLDERS,
    pageEntries: LIST_PAGE_KEYS,
    request: (draw) => ({ prefix: 'd/', delimiter: '/', startAfter: folderName(Math.floor(draw() * (FOLDERS - LIST_PAGE_KEYS))) }),
  };

  const postgresCpuSeconds = () => pidsNamed(['postgres']).reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const run = async (listingCase: ListingCase, draw: () => number) => {
    const latencies: number[] = [];
    const cpuBefore = process.cpuUsage();
    const postgresBefore = postgresCpuSeconds();
    for (let i = 0; i < listingCase.samples; i++) {
      const request = { bucket: 'large', maxKeys: LIST_PAGE_KEYS, ...listingCase.request(draw) };
      const t0 = process.hrtime.bigint();
      const page = await call<{ contents: unknown[]; commonPrefixes: unknown[] }>(MetadataRpc.listObjectsV2, request);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const entries = page.contents.length + page.commonPrefixes.length;
      if (entries !== listingCase.pageEntries) throw new Error(`${listingCase.name}: ${JSON.stringify(request)} listed ${entries} entries`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    return { latencies, cpuMs: (cpu.user + cpu.system) / 1000, postgresCpuMs: (postgresCpuSeconds() - postgresBefore) * 1000 };
  };

  const draw = seededDraws(LIST_SEED);
  await run({ ...cases[0], samples: 10 }, seededDraws(LIST_SEED + 1)); // warm-up: connections, plans, the buffer cache's upper index pages
  const lines = [`  ListObjectsV2 over a bucket of ${LARGE_BUCKET_KEYS} keys + ${FOLDERS * FILES_PER_FOLDER} in folders (bulk load ${loadSeconds.toFixed(1)} s), ${LIST_PAGE_KEYS} entries a page:`];
  const all: number[] = [];
  let allCpuMs = 0;
  let allPostgresCpuMs = 0;
  for (const listingCase of cases) {
    const r = await run(listingCase, draw);
    all.push(...r.latencies);
    allCpuMs += r.cpuMs;
    allPostgresCpuMs += r.postgresCpuMs;
    lines.push(latencyLine(listingCase.name, r.latencies.sort((x, y) => x - y), r.cpuMs / listingCase.samples, r.postgresCpuMs / listingCase.samples));
  }
  lines.push(latencyLine(`all ${LIST_PAGE_KEYS}-key listings`, all.sort((x, y) => x - y), allCpuMs / all.length, allPostgresCpuMs / all.length));
  const r = await run(folders, draw);
  lines.push(latencyLine(folders.name, r.latencies.sort((x, y) => x - y), r.cpuMs / folders.samples, r.postgresCpuMs / folders.samples));
  return lines;
}

async function main(): Promise<void> {
  const ns = testNamespace();
  const service = await bootForTest(MetadataService, ns, { CAIRN_LOG_LEVEL: 'error', CAIRN_INSTANCE: 'metadata-bench' });
  const rawNats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: ns, region: 'bench', serviceName: 'bench', instance: 'bench' });
  try {
    await service.transport.started;
    const rpc = service.app.get(RpcClient);
    const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });
    const out = (s: string) => process.stdout.write(`${s}\n`);
    if (ONLY === 'listing') {
      const listing = await measureListings(call, service.app.get(PostgresConnection));
      out(`\nmetadata bench, listings only (namespace ${ns})`);
      for (const line of listing) out(line);
      return;
    }
    await call(MetadataRpc.createBucket, { bucket: 'bench', owner: 'bench', versioningEnabled: true });

    // Projection lag sampler over the whole put phase.
    const lagSamples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const status = await call<ProjectionStatusReply>(MetadataRpc.projectionStatus, {});
        lagSamples.push(status.streams.find((s) => s.stream === 'META')?.lag ?? 0);
        await new Promise((r) => setTimeout(r, LAG_SAMPLE_MS));
      }
    })();

    const sequential = await runPool(SEQUENTIAL_PUTS, 1, (i) => call<PutObjectReply>(MetadataRpc.putObject, putRequest('bench', `seq/${i}`, i)));
    const distinct = await runPool(CONCURRENT_PUTS, CONCURRENCY, (i) => call<PutObjectReply>(MetadataRpc.putObject, putRequest('bench', `conc/${i}`, i)));
    const hot = await runPool(HOT_KEY_PUTS, CONCURRENCY, (i) => call<PutObjectReply>(MetadataRpc.putObject, putRequest('bench', 'hot/key', i)));
    sampling = false;
    await sampler;
    lagSamples.sort((a, b) => a - b);

    // Let the projection catch up (its drain rate is the projection's throughput), then measure
    // put → visible to a read that asks for it (read-your-writes delay) in steady state.
    const behindAtEnd = (await call<ProjectionStatusReply>(MetadataRpc.projectionStatus, {})).streams.find((s) => s.stream === 'META')?.lag ?? 0;
    const drainStarted = Date.now();
    for (;;) {
      const lag = (await call<ProjectionStatusReply>(MetadataRpc.projectionStatus, {})).streams.find((s) => s.stream === 'META')?.lag ?? 0;
      if (lag === 0) break;
      if (Date.now() - drainStarted > DRAIN_TIMEOUT_MS) throw new Error(`projection still ${lag} events behind after ${DRAIN_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, LAG_SAMPLE_MS));
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    const ryw: number[] = [];
    for (let i = 0; i < RYW_SAMPLES; i++) {
      const reply = await call<PutObjectReply>(MetadataRpc.putObject, putRequest('bench', `ryw/${i}`, i));
      const t0 = process.hrtime.bigint();
      await call(MetadataRpc.headObject, { bucket: 'bench', key: `ryw/${i}`, minSequence: reply.sequence });
      ryw.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ryw.sort((a, b) => a - b);

    const listing = await measureListings(call, service.app.get(PostgresConnection));

    // Raw JetStream appends: same message size as a put's event, expected-subject-sequence header.
    const subjects = subjectsFor(ns);
    const rawStream = `${ns}_BENCHRAW`;
    const jsm = await rawNats.jetstreamManager();
    await jsm.streams.add({
      name: rawStream,
      subjects: [subjects.prefix('benchraw.>')],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: 1,
      duplicate_window: 120_000_000_000,
    });
    const sample = putRequest('bench', 'conc/12345', 12345);
    const envelope = wrapEvent({ type: 'ObjectVersionPut', data: { ...sample, keyId: sha256(sample.key), versionId: 'x'.repeat(36), checksums: {}, userMetadata: {}, storageClass: 'STANDARD', tags: [], hlc: '000000000000-0000', lastModified: new Date().toISOString() } }, 1, {
      region: 'region-1',
      aggregateId: `bench/${sha256(sample.key)}`,
      now: new Date(),
      newId: () => randomUUID(),
      nextHlc: () => '000000000000-0000',
    });
    const payload = JSONCodec().encode(envelope);
    const js = await rawNats.jetstream();
    const lastBySubject = new Map<string, number>();
    const rawAppend = async (subject: string) => {
      const h = natsHeaders();
      h.set('Cairn-Event-Type', 'ObjectVersionPut');
      const ack = await js.publish(subject, payload, { msgID: randomUUID(), expect: { lastSubjectSequence: lastBySubject.get(subject) ?? 0 }, headers: h });
      lastBySubject.set(subject, ack.seq);
    };
    const rawSequential = await runPool(RAW_SEQUENTIAL, 1, (i) => rawAppend(subjects.prefix(`benchraw.seq.${i}`)));
    const rawConcurrent = await runPool(RAW_CONCURRENT, CONCURRENCY, (i) => rawAppend(subjects.prefix(`benchraw.conc.${i}`)));

    out(`\nmetadata bench (namespace ${ns}, message ${payload.length} bytes, ${CONCURRENCY} in flight where concurrent)`);
    out(`  PutObject sequential           (${SEQUENTIAL_PUTS})   ${fmt(sequential)}`);
    out(`  PutObject 32 conc, distinct    (${CONCURRENT_PUTS})  ${fmt(distinct)}`);
    out(`  PutObject 32 conc, one hot key (${HOT_KEY_PUTS})   ${fmt(hot)}`);
    out(`  projection lag (META events behind, sampled every ${LAG_SAMPLE_MS} ms during puts): p50 ${percentile(lagSamples, 50)}  p99 ${percentile(lagSamples, 99)}  max ${lagSamples.at(-1)}`);
    out(`  projection catch-up after the puts: ${behindAtEnd} events behind, drained in ${drainSeconds.toFixed(1)} s (${drainSeconds > 0 ? (behindAtEnd / drainSeconds).toFixed(0) : '-'} events/s)`);
    out(`  put → read-your-write head (minSequence) delay: p50 ${percentile(ryw, 50).toFixed(2)} ms  p99 ${percentile(ryw, 99).toFixed(2)} ms`);
    for (const line of listing) out(line);
    out(`  raw JetStream append, expected-seq, sequential   ${fmt(rawSequential)}`);
    out(`  raw JetStream append, expected-seq, 32 conc      ${fmt(rawConcurrent)}`);
    out(`  ratio put/raw: sequential ${(sequential.opsPerSecond / rawSequential.opsPerSecond).toFixed(3)}   32 conc distinct ${(distinct.opsPerSecond / rawConcurrent.opsPerSecond).toFixed(3)}   32 conc hot ${(hot.opsPerSecond / rawConcurrent.opsPerSecond).toFixed(3)}`);
  } finally {
    await rawNats.close();
    await service.close();
    await dropNamespace(ns);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`metadata bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
