/**
 * npm run bench — S3 throughput and small-object latency of a whole Cairn region on this machine
 * (rf=3), beside the same workload against s3rver and the raw disk write rate, measured in the
 * same run. --rf 1 runs the private region at that replication factor (CAIRN_REPLICATION_FACTOR);
 * --rf 1,3 runs one region after the other, each against the same s3rver, one column each.
 * Pass --endpoint (with --access-key/--secret-key) to point it at any S3 server instead of starting
 * a private region; --quick runs fewer operations; --only small|large runs one half of the
 * workload. For the private region it also prints the CPU each process spent per 4 KiB request.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_REPLICATION_FACTOR, isReplicationFactor, MAX_REPLICATION_FACTOR } from '@cairn/protocol';
import { LeanS3Client, type S3Target } from './lean-s3-client';
import { cpuSecondsOf, pidsNamed } from './process-cpu';
import { DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY, ensureLocalServices, spawnRegion, waitUntilWritable, type RegionMember } from './private-region';


const MiB = 1024 * 1024;
const LARGE_OBJECT_BYTES = 64 * MiB;
const SMALL_OBJECT_BYTES = 4 * 1024;
const SMALL_CONCURRENCY = 16;
const RAW_DISK_BYTES = 256 * MiB;
const RAW_DISK_BLOCK_BYTES = 4 * MiB;
/** The private region's ports: region one's plus this, clear of a running `npm start`. */
const BENCH_PORT_OFFSET = 3000;
const MEASURED_ROUNDS = 2;

const { values: args } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    'access-key': { type: 'string' },
    'secret-key': { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
    quick: { type: 'boolean', default: false },
    'no-reference': { type: 'boolean', default: false },
    only: { type: 'string' },
    rf: { type: 'string' },
  },
});
if (args.only !== undefined && args.only !== 'small' && args.only !== 'large') throw new Error('--only takes small or large');
if (args.rf !== undefined && args.endpoint !== undefined) throw new Error('--rf sets the private region\'s replication factor; an --endpoint keeps its own');
/** The private regions' replication factors, one region (and one column) each, in the order given. */
const REPLICATION_FACTORS = replicationFactorsOf(args.rf);
const RUN_LARGE = args.only !== 'small';
const RUN_SMALL = args.only !== 'large';
const LARGE_OPS = { 1: args.quick ? 2 : 4, 4: args.quick ? 4 : 8 } as const;
const SMALL_OPS = args.quick ? 500 : 2000;

interface Figures {
  [metric: string]: number;
}

function replicationFactorsOf(text: string | undefined): number[] {
  if (text === undefined) return [DEFAULT_REPLICATION_FACTOR];
  const factors = text.split(',').map((part) => Number(part.trim()));
  if (factors.length === 0 || !factors.every(isReplicationFactor) || new Set(factors).size !== factors.length) {
    throw new Error(`--rf takes distinct whole numbers of copies from 1 to ${MAX_REPLICATION_FACTOR}, comma-separated (e.g. 1 or 1,3), not "${text}"`);
  }
  return factors;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function inParallel(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await work(next++);
  }));
}

function expectOk(what: string, res: { status: number; body: string }): void {
  if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
}

/** CPU seconds so far of each process measured (by pid): the region's services, nats-server, Postgres, this client. */
type CpuSample = Map<number, { readonly group: string; readonly seconds: number }>;
function sampleCpu(members: readonly RegionMember[] | undefined): CpuSample | undefined {
  if (!members) return undefined;
  const sample: CpuSample = new Map();
  const add = (group: string, pid: number) => sample.set(pid, { group, seconds: cpuSecondsOf(pid) });
  for (const m of members) if (m.child.pid) add(m.proc.service, m.child.pid);
  for (const pid of pidsNamed(['nats-server'])) add('nats-server', pid);
  for (const pid of pidsNamed(['postgres'])) add('postgres', pid);
  add('bench client', process.pid);
  return sample;
}

/** CPU per request by group, counting only processes alive at both samples (Postgres backends come and go). */
function cpuPerOp(before: CpuSample | undefined, after: CpuSample | undefined, ops: number, label: string, figures: Figures): void {
  if (!before || !after) return;
  const byGroup = new Map<string, number>();
  for (const [pid, { group, seconds }] of after) {
    const earlier = before.get(pid);
    if (earlier) byGroup.set(group, (byGroup.get(group) ?? 0) + Math.max(0, seconds - earlier.seconds));
  }
  let total = 0;
  for (const [group, seconds] of byGroup) {
    const ms = (seconds * 1000) / ops;
    if (group !== 'bench client') total += ms;
    figures[`${label} CPU ms/op ${group}`] = ms;
  }
  figures[`${label} CPU ms/op region total`] = total;
}

async function runWorkload(target: S3Target, members?: readonly RegionMember[]): Promise<Figures> {
  const s3 = new LeanS3Client(target);
  const bucket = `bench-${randomBytes(4).toString('hex')}`;
  const figures: Figures = {};
  try {
    expectOk('create bucket', await s3.request('PUT', bucket, ''));
    const large = RUN_LARGE ? randomBytes(LARGE_OBJECT_BYTES) : Buffer.alloc(0);
    for (const concurrency of RUN_LARGE ? ([1, 4] as const) : []) {
      const ops = LARGE_OPS[concurrency];
      // Every object differs in every MiB, so no store can skip writing a chunk it already holds.
      const bodies = Array.from({ length: ops }, () => distinctCopy(large));
      const mib = (ops * LARGE_OBJECT_BYTES) / MiB;
      let cpuBefore = sampleCpu(members);
      let started = performance.now();
      await inParallel(ops, concurrency, async (i) => expectOk('PUT 64 MiB', await s3.request('PUT', bucket, `large-${concurrency}-${i}`, bodies[i])));
      figures[`PUT 64 MiB c${concurrency} MB/s`] = mib / ((performance.now() - started) / 1000);
      cpuPerOp(cpuBefore, sampleCpu(members), mib, `PUT 64 MiB c${concurrency} per MiB`, figures);
      cpuBefore = sampleCpu(members);
      started = performance.now();
      await inParallel(ops, concurrency, async (i) => {
        const res = await s3.request('GET', bucket, `large-${concurrency}-${i}`);
        expectOk('GET 64 MiB', res);
        if (res.bytes !== LARGE_OBJECT_BYTES) throw new Error(`GET returned ${res.bytes} bytes`);
      });
      figures[`GET 64 MiB c${concurrency} MB/s`] = mib / ((performance.now() - started) / 1000);
      cpuPerOp(cpuBefore, sampleCpu(members), mib, `GET 64 MiB c${concurrency} per MiB`, figures);
    }
    const small = randomBytes(SMALL_OBJECT_BYTES);
    for (const method of RUN_SMALL ? (['PUT', 'GET'] as const) : []) {
      const latencies: number[] = [];
      const cpuBefore = sampleCpu(members);
      const started = performance.now();
      await inParallel(SMALL_OPS, SMALL_CONCURRENCY, async (i) => {
        const t0 = performance.now();
        const res = await s3.request(method, bucket, `small/${i}`, method === 'PUT' ? small : undefined);
        latencies.push(performance.now() - t0);
        expectOk(`${method} 4 KiB`, res);
      });
      const seconds = (performance.now() - started) / 1000;
      cpuPerOp(cpuBefore, sampleCpu(members), SMALL_OPS, `${method} 4 KiB`, figures);
      latencies.sort((a, b) => a - b);
      figures[`${method} 4 KiB c${SMALL_CONCURRENCY} ops/s`] = SMALL_OPS / seconds;
      figures[`${method} 4 KiB p50 ms`] = percentile(latencies, 50);
      figures[`${method} 4 KiB p99 ms`] = percentile(latencies, 99);
    }
  } finally {
    s3.close();
  }
  return figures;
}

/** A copy of `base` with a fresh random stamp at the start of every MiB. */
function distinctCopy(base: Buffer): Buffer {
  const copy = Buffer.from(base);
  for (let offset = 0; offset < copy.length; offset += MiB) randomBytes(16).copy(copy, offset);
  return copy;
}

async function rawDiskWriteMBps(dir: string): Promise<number> {
  const block = randomBytes(RAW_DISK_BLOCK_BYTES);
  const file = path.join(dir, 'raw-disk');
  const started = performance.now();
  const fh = await fsp.open(file, 'w');
  for (let written = 0; written < RAW_DISK_BYTES; written += block.length) await fh.write(block);
  await fh.sync();
  await fh.close();
  const mbps = RAW_DISK_BYTES / MiB / ((performance.now() - started) / 1000);
  await fsp.rm(file);
  return mbps;
}

async function startPrivateRegion(dataRoot: string, replicationFactor: number) {
  await ensureLocalServices();
  const namespace = `bench${randomBytes(3).toString('hex')}`;
  // Warnings and errors of the region's processes, for when a figure looks wrong.
  const logFile = path.join(os.tmpdir(), `cairn-bench-${namespace}.log`);
  const log = createWriteStream(logFile);
  const env = { CAIRN_LOG_LEVEL: 'warn', CAIRN_REPLICATION_FACTOR: String(replicationFactor) };
  const region = spawnRegion({ namespace, portOffset: BENCH_PORT_OFFSET, dataRoot, env, onLine: (name: string, line: string) => log.write(`${name}: ${line}\n`) });
  console.log(`the private region (rf=${replicationFactor})'s warnings and errors go to ${logFile}`);
  const access = region.members.find((m) => m.proc.service === 'access')!;
  const target: S3Target = { name: `cairn rf=${replicationFactor}`, endpoint: access.url, accessKey: DEV_ROOT_ACCESS_KEY, secretKey: DEV_ROOT_SECRET_KEY, region: 'us-east-1' };
  try {
    await waitUntilWritable(region, target);
  } catch (error) {
    await region.stop(15_000);
    throw error;
  }
  return { target, members: region.members, stop: () => region.stop(15_000).finally(() => log.end()) };
}

async function startS3rver(directory: string) {
  const S3rver = require('s3rver');
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, configureBuckets: [] });
  const { port } = (await server.run()) as { port: number };
  const target: S3Target = { name: 's3rver', endpoint: `http://127.0.0.1:${port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' };
  return { target, stop: () => server.close() as Promise<void> };
}

/** Each metric's best value over the runs (highest rate, lowest latency). */
function bestOf(runs: readonly Figures[]): Figures {
  const best: Figures = {};
  for (const metric of Object.keys(runs[0])) {
    const values = runs.map((run) => run[metric]);
    best[metric] = metric.endsWith(' ms') || metric.includes('CPU ms/op') ? Math.min(...values) : Math.max(...values);
  }
  return best;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

interface Contender {
  readonly target: S3Target;
  readonly members?: readonly RegionMember[];
  stop(): Promise<unknown>;
}

/** The servers measured against s3rver, one after the other: the --endpoint, or a private region per --rf. */
function contenders(work: string): (() => Promise<Contender>)[] {
  if (args.endpoint) {
    const target = { name: 'target', endpoint: args.endpoint, accessKey: args['access-key'] ?? DEV_ROOT_ACCESS_KEY, secretKey: args['secret-key'] ?? DEV_ROOT_SECRET_KEY, region: args.region! };
    return [async () => ({ target, stop: async () => undefined })];
  }
  return REPLICATION_FACTORS.map((rf) => async () => {
    const dataRoot = path.join(work, `region-rf${rf}`);
    const region = await startPrivateRegion(dataRoot, rf);
    return { ...region, stop: () => region.stop().finally(() => fsp.rm(dataRoot, { recursive: true, force: true })) };
  });
}

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-bench-'));
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const reference = args['no-reference'] ? undefined : await startS3rver(path.join(work, 's3rver'));
    if (reference) stops.push(reference.stop);
    if (reference) await runWorkload(reference.target);

    // Each contender is warmed up, then it and s3rver are measured in turn, twice, keeping each
    // one's better run: on a shared machine the order of the runs would otherwise move the ratios
    // more than the servers do. Each contender is compared with s3rver's runs beside its own, not
    // with s3rver's best over every contender's rounds. A region is stopped before the next starts
    // (they share the ports).
    const columns: { readonly name: string; readonly mine: Figures; readonly theirs?: Figures }[] = [];
    const raws: number[] = [];
    for (const start of contenders(work)) {
      const cairn = await start();
      try {
        console.log(`warming up ${cairn.target.name} at ${cairn.target.endpoint}…`);
        await runWorkload(cairn.target, cairn.members);
        const mineRuns: Figures[] = [];
        const theirRuns: Figures[] = [];
        for (let round = 1; round <= MEASURED_ROUNDS; round++) {
          console.log(`round ${round} of ${MEASURED_ROUNDS}: ${cairn.target.name}${reference ? ', then s3rver' : ''}…`);
          if (RUN_LARGE) raws.push(await rawDiskWriteMBps(work));
          mineRuns.push(await runWorkload(cairn.target, cairn.members));
          if (reference) theirRuns.push(await runWorkload(reference.target));
        }
        columns.push({ name: cairn.target.name, mine: bestOf(mineRuns), ...(reference ? { theirs: bestOf(theirRuns) } : {}) });
      } finally {
        await cairn.stop().catch(() => undefined);
      }
    }
    const raw = Math.max(...raws);

    // One group of columns per contender: its figure, s3rver's beside it, the ratio, and the share of the raw disk rate.
    const header = ['metric'];
    for (const { name } of columns) header.push(name, ...(reference ? ['s3rver', `${name}/s3rver`] : []), columns.length === 1 ? 'vs raw disk write' : `${name} vs raw disk`);
    const rows = [header];
    for (const metric of Object.keys(columns[0].mine)) {
      const lowerIsBetter = metric.endsWith(' ms') || metric.includes('CPU ms/op');
      const digits = lowerIsBetter ? 2 : 1;
      const row = [metric];
      for (const { mine, theirs } of columns) {
        const value = mine[metric];
        const ref = theirs?.[metric];
        row.push(value === undefined ? '' : value.toFixed(digits));
        if (reference) row.push(ref === undefined ? '' : ref.toFixed(digits), ref === undefined || value === undefined ? '' : `${(lowerIsBetter ? ref / value : value / ref).toFixed(2)}x`);
        row.push(metric.includes('MB/s') && value !== undefined ? `${((value / raw) * 100).toFixed(0)}%` : '');
      }
      rows.push(row);
    }
    const groupWidth = reference ? 4 : 2;
    const blanks = (n: number) => Array.from({ length: n }, () => '');
    if (RUN_LARGE) rows.push(['raw disk write, 4 MiB blocks + fsync, MB/s', raw.toFixed(1), ...blanks(groupWidth - 2), '100%', ...blanks(groupWidth * (columns.length - 1))]);
    const copies = args.endpoint ? '' : ` ${REPLICATION_FACTORS.map((rf) => `rf=${rf}: each PUT byte is written ${rf === 1 ? 'once' : `${rf} times`}`).join('; ')};`;
    console.log(`\n${table(rows)}\n\n(best of ${MEASURED_ROUNDS} alternating runs each;${copies} every 64 MiB object is distinct. Ratios >1x mean Cairn is better.)`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await fsp.rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
