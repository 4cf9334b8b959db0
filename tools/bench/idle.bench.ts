/**
 * npm run bench:idle — what a region doing nothing costs: starts a private region (rf=3, as
 * `npm run bench` does), waits until it takes an object and then --settle-s more seconds, then
 * samples each process's CPU (user + system, /proc/<pid>/stat) over --seconds, --rounds times,
 * and prints milliseconds of CPU per second per process. nats-server, Postgres and Redis serve
 * everything else on this machine too, so their figures are shown apart and are only indicative.
 * CAIRN_CPU_PROFILE_DIR=<dir> makes each region process write a V8 CPU profile there as it exits.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuSecondsOf, pidsNamed } from './process-cpu';
import { DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY, ensureLocalServices, spawnRegion, waitUntilWritable, type RegionMember } from './private-region';


/** Region one's ports plus this: clear of `npm start` and of `npm run bench`'s private region. */
const IDLE_BENCH_PORT_OFFSET = 3500;
const REGION_STOP_MS = 15_000;
const SHARED_SERVERS = ['nats-server', 'postgres', 'redis-server'] as const;

const { values: args } = parseArgs({
  options: {
    'settle-s': { type: 'string', default: '30' },
    seconds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '2' },
    rf: { type: 'string', default: '3' },
  },
});
const SETTLE_MS = Number(args['settle-s']) * 1000;
const SAMPLE_MS = Number(args.seconds) * 1000;
const ROUNDS = Number(args.rounds);
if (!(SETTLE_MS >= 0 && SAMPLE_MS > 0 && Number.isInteger(ROUNDS) && ROUNDS > 0)) throw new Error('--settle-s >= 0, --seconds > 0 and --rounds >= 1, whole');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds so far of each measured process, by row name (a shared server's row sums its processes alive at both samples). */
function sampleCpu(members: readonly RegionMember[]): Map<string, Map<number, number>> {
  const rows = new Map<string, Map<number, number>>();
  for (const m of members) if (m.child.pid) rows.set(m.proc.name, new Map([[m.child.pid, cpuSecondsOf(m.child.pid)]]));
  for (const name of SHARED_SERVERS) rows.set(name, new Map(pidsNamed([name]).map((pid) => [pid, cpuSecondsOf(pid)])));
  return rows;
}

function msPerSecond(before: Map<number, number>, after: Map<number, number>, elapsedS: number): number {
  let seconds = 0;
  for (const [pid, cpu] of after) {
    const earlier = before.get(pid);
    if (earlier !== undefined) seconds += Math.max(0, cpu - earlier);
  }
  return (seconds * 1000) / elapsedS;
}

async function main(): Promise<void> {
  await ensureLocalServices();
  const dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-idle-'));
  const namespace = `idle${randomBytes(3).toString('hex')}`;
  const logFile = path.join(os.tmpdir(), `cairn-bench-${namespace}.log`);
  const log = createWriteStream(logFile);
  const env = { CAIRN_LOG_LEVEL: 'warn', CAIRN_REPLICATION_FACTOR: args.rf! };
  const region = spawnRegion({ namespace, portOffset: IDLE_BENCH_PORT_OFFSET, dataRoot, env, onLine: (name: string, line: string) => log.write(`${name}: ${line}\n`) });
  console.log(`private region ${namespace} (rf=${args.rf}); its warnings and errors go to ${logFile}`);
  try {
    const access = region.members.find((m) => m.proc.service === 'access')!;
    await waitUntilWritable(region, { name: 'cairn', endpoint: access.url, accessKey: DEV_ROOT_ACCESS_KEY, secretKey: DEV_ROOT_SECRET_KEY, region: 'us-east-1' });
    console.log(`ready; settling ${SETTLE_MS / 1000} s, then ${ROUNDS} samples of ${SAMPLE_MS / 1000} s`);
    await sleep(SETTLE_MS);
    const figures = new Map<string, number[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      const before = sampleCpu(region.members);
      const startedAt = performance.now();
      await sleep(SAMPLE_MS);
      const after = sampleCpu(region.members);
      const elapsedS = (performance.now() - startedAt) / 1000;
      for (const [name, pids] of after) {
        const list = figures.get(name) ?? [];
        list.push(msPerSecond(before.get(name) ?? new Map(), pids, elapsedS));
        figures.set(name, list);
      }
    }
    printTable(figures, region.members);
  } finally {
    await region.stop(REGION_STOP_MS);
    log.end();
    await fsp.rm(dataRoot, { recursive: true, force: true });
  }
}

function printTable(figures: Map<string, number[]>, members: readonly RegionMember[]): void {
  const regionRows = members.map((m) => m.proc.name);
  const width = Math.max(...[...figures.keys()].map((name) => name.length), 'region total'.length);
  const line = (name: string, values: readonly number[]) => `${name.padEnd(width)}${values.map((v) => v.toFixed(1).padStart(9)).join('')}`;
  console.log(`\nidle CPU, ms per second (${(SAMPLE_MS / 1000).toFixed(0)} s per sample; 1000 = one core busy)`);
  console.log(`${'process'.padEnd(width)}${Array.from({ length: ROUNDS }, (_, i) => `#${i + 1}`.padStart(9)).join('')}`);
  for (const name of regionRows) console.log(line(name, figures.get(name) ?? []));
  const totals = Array.from({ length: ROUNDS }, (_, i) => regionRows.reduce((sum, name) => sum + (figures.get(name)?.[i] ?? 0), 0));
  console.log(line('region total', totals));
  console.log('shared with everything else on this machine:');
  for (const name of SHARED_SERVERS) console.log(line(name, figures.get(name) ?? []));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
