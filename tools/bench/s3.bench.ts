/**
 * npm run bench — S3 throughput and small-object latency of a whole Cairn region on this machine
 * (rf=3), beside the same workload against s3rver and the raw disk write rate, measured in the
 * same run. --rf 1 runs the private region at that replication factor (CAIRN_REPLICATION_FACTOR);
 * --rf 1,3 runs one region after the other, each against the same s3rver, one column each.
 * Pass --endpoint (with --access-key/--secret-key) to point it at any S3 server instead of starting
 * a private region; --quick runs fewer operations; --only small|large runs one half of the
 * workload. For the private region it also prints the CPU each process spent per 4 KiB request.
 * --port-offset N moves the private region's ports (default 3000 above region one's); the bench
 * refuses to start when one of them is taken, rather than measure whatever answers there.
 * --warmup N runs the workload N times (default 1) against a fresh region before the measured rounds:
 * the services' CPU per 4 KiB request keeps falling for the first few thousand requests while V8
 * optimises their code, so one pass measures a region still warming up.
 * CAIRN_PAUSE_LOG_DIR=<dir> makes each process of the private region log its event-loop stalls and
 * GC pauses there with wall-clock times (tools/dev-stack/pause-log.js), to line them up with slow requests.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_REPLICATION_FACTOR, isReplicationFactor, MAX_REPLICATION_FACTOR } from '@cairn/protocol';
import type { S3Target } from './lean-s3-client';
import { assertRegionPortsFree, DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY, ensureLocalServices, spawnRegion, waitUntilWritable, type RegionMember } from './private-region';
import { runWorkloadInChild, type Figures } from './s3-workload';


const MiB = 1024 * 1024;
const RAW_DISK_BYTES = 256 * MiB;
const RAW_DISK_BLOCK_BYTES = 4 * MiB;
/** The private region's ports: region one's plus this (--port-offset), clear of a running `npm start`. */
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
    warmup: { type: 'string', default: '1' },
    'port-offset': { type: 'string', default: String(BENCH_PORT_OFFSET) },
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
/** How many times the workload runs against a fresh region before the measured rounds. */
const WARMUP_PASSES = Number(args.warmup);
if (!Number.isInteger(WARMUP_PASSES) || WARMUP_PASSES < 1) throw new Error(`--warmup takes a whole number of passes, 1 or more, not "${args.warmup}"`);

/** Added to region one's ports for the private region; the bench stops at once if one of them is taken. */
const PORT_OFFSET = Number(args['port-offset']);
if (!Number.isInteger(PORT_OFFSET) || PORT_OFFSET < 0) throw new Error(`--port-offset takes a whole number, not "${args['port-offset']}"`);

function replicationFactorsOf(text: string | undefined): number[] {
  if (text === undefined) return [DEFAULT_REPLICATION_FACTOR];
  const factors = text.split(',').map((part) => Number(part.trim()));
  if (factors.length === 0 || !factors.every(isReplicationFactor) || new Set(factors).size !== factors.length) {
    throw new Error(`--rf takes distinct whole numbers of copies from 1 to ${MAX_REPLICATION_FACTOR}, comma-separated (e.g. 1 or 1,3), not "${text}"`);
  }
  return factors;
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
  const region = spawnRegion({ namespace, portOffset: PORT_OFFSET, dataRoot, env, onLine: (name: string, line: string) => log.write(`${name}: ${line}\n`) });
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

/** s3rver in a process of its own (s3rver-process.ts). */
async function startS3rver(directory: string) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 's3rver-process.ts'), directory], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]) as { port: number }).port);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before it listened`)));
  });
  const target: S3Target = { name: 's3rver', endpoint: `http://127.0.0.1:${port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { target, stop, processes: [{ group: 's3rver', pid: child.pid! }] };
}

/** The workload against one server, in a process of its own (s3-workload.ts). */
function runWorkload(target: S3Target, members?: readonly RegionMember[]): Promise<Figures> {
  return runWorkloadInChild({
    target,
    large: RUN_LARGE ? { c1Ops: LARGE_OPS[1], c4Ops: LARGE_OPS[4] } : null,
    smallOps: RUN_SMALL ? SMALL_OPS : 0,
    ...(members ? { processes: members.flatMap((m) => (m.child.pid ? [{ group: m.proc.service, pid: m.child.pid }] : [])) } : {}),
  });
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
    await assertRegionPortsFree(PORT_OFFSET);
    const region = await startPrivateRegion(dataRoot, rf);
    return { ...region, stop: () => region.stop().finally(() => fsp.rm(dataRoot, { recursive: true, force: true })) };
  });
}

async function main(): Promise<void> {
  // Checked again before each region starts: a region stopped late, or another started meanwhile, holds them too.
  if (!args.endpoint) await assertRegionPortsFree(PORT_OFFSET);
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
        for (let pass = 1; pass <= WARMUP_PASSES; pass++) {
          console.log(`warming up ${cairn.target.name} at ${cairn.target.endpoint}${WARMUP_PASSES > 1 ? ` (pass ${pass} of ${WARMUP_PASSES})` : ''}…`);
          const warm = await runWorkload(cairn.target, cairn.members);
          // The Node processes' CPU per request falls while V8 optimises their code; this shows when it stops falling.
          const cpu = warm['PUT 4 KiB CPU ms/op region total'];
          if (WARMUP_PASSES > 1 && RUN_SMALL) console.log(`  4 KiB PUT p99 ${warm['PUT 4 KiB p99 ms'].toFixed(1)} ms${cpu === undefined ? '' : `, region CPU per PUT ${cpu.toFixed(2)} ms`}`);
        }
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
    console.log(`\n${table(rows)}\n\n(best of ${MEASURED_ROUNDS} alternating runs each, after ${WARMUP_PASSES} warm-up pass${WARMUP_PASSES > 1 ? 'es' : ''};${copies} every 64 MiB object is distinct. Ratios >1x mean Cairn is better.)`);
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
