/**
 * npm run bench:locks — the lock-manager's Raft group on this machine: acquire+release pairs per
 * second, their p50/p99 and the CPU per pair of the three lock-manager processes, with 1, 8, 16
 * and 64 clients, on distinct resources and on one contended resource; then the time to elect a
 * new leader after `kill -9` of the old one (median of 10); then, with clients looping
 * acquire+release (on distinct resources and on one contended lock), the time from `kill -9` of
 * the leader until every looping client has its next grant. `--only pairs|election|failover`
 * runs one part; `--clients 16 --workload distinct` one row of the pairs table. It starts its
 * own three lock-manager processes in a private namespace.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { LockClient } from '@cairn/lock-client';
import { NatsConnectionManager, RpcClient, deleteNamespaceStreams } from '@cairn/messaging';
import { benchCredentials } from './bench-credentials';
import { LockManagerCluster } from '../../apps/lock-manager/src/testing/lock-manager-cluster.fixture';
import { cpuSecondsOf, writeCallsOf } from './process-cpu';
const { ensureLocalServices } = require('../services/local-services') as { ensureLocalServices: () => Promise<unknown> };

const CLIENT_COUNTS = [1, 8, 16, 64];
const LEASE_TTL_MS = 10_000;
const CONTENDED_WAIT_MS = 60_000;
const ELECTION_ROUNDS = 10;
const ELECTION_TIMEOUT_MS = 15_000;
const CATCH_UP_TIMEOUT_MS = 30_000;
const POLL_MS = 10;
const FAILOVER_ROUNDS = 5;
const FAILOVER_CLIENTS = 8;
const FAILOVER_TTL_MS = 5_000;
const FAILOVER_WAIT_MS = 20_000;
const FAILOVER_WARM_MS = 1_000;
const FAILOVER_GRANT_TIMEOUT_MS = 15_000;

const { values: args } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '5000' },
    rounds: { type: 'string', default: String(ELECTION_ROUNDS) },
    'failover-rounds': { type: 'string', default: String(FAILOVER_ROUNDS) },
    only: { type: 'string' },
    /** Comma-separated client counts for the pairs table (default 1,8,16,64). */
    clients: { type: 'string' },
    /** distinct|contended: one half of the pairs table. */
    workload: { type: 'string' },
  },
});
const DURATION_MS = Number(args['duration-ms']);
const ROUNDS = Number(args.rounds);
const FAILOVER_ROUNDS_RUN = Number(args['failover-rounds']);
const ONLY = args.only;
if (ONLY !== undefined && !['pairs', 'election', 'failover'].includes(ONLY)) throw new Error(`--only must be pairs, election or failover, not ${ONLY}`);
const runs = (part: string) => ONLY === undefined || ONLY === part;
const PAIR_CLIENTS = args.clients ? args.clients.split(',').map(Number) : CLIENT_COUNTS;
const WORKLOADS = args.workload ? [args.workload === 'contended'] : [false, true];
const NATS_URL = process.env['CAIRN_NATS_URL'] ?? 'nats://127.0.0.1:4222';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function pairs(rpc: RpcClient, clients: number, contended: boolean, runId: string, pids: readonly number[] = []) {
  const latenciesMs: number[] = [];
  let errors = 0;
  const endAt = Date.now() + DURATION_MS;
  const worker = async (i: number) => {
    const client = new LockClient(rpc, { owner: `bench-${runId}-${i}` });
    const resource = contended ? `contended-${runId}` : `distinct-${runId}-${i}`;
    while (Date.now() < endAt) {
      const started = performance.now();
      try {
        const grant = await client.acquire(resource, { ttlMs: LEASE_TTL_MS, waitMs: contended ? CONTENDED_WAIT_MS : 0 });
        await client.release(grant);
        latenciesMs.push(performance.now() - started);
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const writesBefore = pids.map((pid) => writeCallsOf(pid));
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  const elapsedS = (performance.now() - started) / 1000;
  const cpuMsPerPair = ((pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0) - cpuBefore) * 1000) / Math.max(1, latenciesMs.length);
  const writesPerPair = pids.map((pid, i) => (writeCallsOf(pid) - writesBefore[i]) / Math.max(1, latenciesMs.length));
  latenciesMs.sort((a, b) => a - b);
  return { pairsPerS: latenciesMs.length / elapsedS, p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), count: latenciesMs.length, errors, cpuMsPerPair, writesPerPair };
}

async function main(): Promise<void> {
  await ensureLocalServices();
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const cluster = new LockManagerCluster(namespace);
  const nats = new NatsConnectionManager({ natsUrl: NATS_URL, namespace, region: 'bench', serviceName: 'lock-bench', instance: 'lock-bench' });
  const rpc = new RpcClient(nats, namespace, benchCredentials('bench/locks'));
  try {
    process.stdout.write(`starting 3 lock-manager processes in namespace ${namespace}...\n`);
    await cluster.start();
    const { leader } = await cluster.leader();
    process.stdout.write(`leader: ${leader}\n`);
    if (runs('pairs')) await pairsTable(rpc, cluster.pids());
    if (runs('election')) await elections(cluster);
    if (runs('failover')) await failovers(cluster, rpc);
  } finally {
    await cluster.stop();
    await deleteNamespaceStreams(await nats.jetstreamManager(), namespace).catch(() => undefined);
    await nats.close();
  }
}

async function pairsTable(rpc: RpcClient, pids: readonly number[]): Promise<void> {
  process.stdout.write(`\nacquire+release pairs (${DURATION_MS} ms per row, lease ${LEASE_TTL_MS} ms, clients reach the leader, the only replica in the NATS queue group)\n`);
  process.stdout.write(`${'workload'.padEnd(12)}${'clients'.padStart(8)}${'pairs/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'pairs'.padStart(8)}${'errors'.padStart(8)}${'cpu ms/pair'.padStart(13)}  writes/pair (each replica)\n`);
  // Warm-up: the first requests pay for connections and JIT.
  await pairs(rpc, 8, false, 'warmup');
  for (const contended of WORKLOADS) {
    for (const clients of PAIR_CLIENTS) {
      const r = await pairs(rpc, clients, contended, `${contended ? 'c' : 'd'}${clients}`, pids);
      process.stdout.write(
        `${(contended ? 'contended' : 'distinct').padEnd(12)}${String(clients).padStart(8)}${r.pairsPerS.toFixed(0).padStart(10)}${r.p50.toFixed(1).padStart(9)}${r.p99.toFixed(1).padStart(9)}${String(r.count).padStart(8)}${String(r.errors).padStart(8)}${r.cpuMsPerPair.toFixed(2).padStart(13)}  ${r.writesPerPair.map((w) => w.toFixed(1)).join(' / ')}\n`,
      );
    }
  }
}

async function elections(cluster: LockManagerCluster): Promise<void> {
  process.stdout.write(`\nleader election after kill -9 of the leader (${ROUNDS} rounds; from the kill until both survivors agree on a new leader)\n`);
  const electionsMs: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const before = await cluster.leader();
    const survivors = cluster.instances.filter((i) => i !== before.leader);
    const killedAt = performance.now();
    await cluster.kill(before.leader, 'SIGKILL');
    const after = await pollNewLeader(cluster, survivors, before.term);
    const electedMs = performance.now() - killedAt;
    electionsMs.push(electedMs);
    process.stdout.write(`  round ${String(round).padStart(2)}: ${before.leader} killed (term ${before.term}) -> ${after.leader} leads term ${after.term} after ${electedMs.toFixed(0)} ms\n`);
    await restartAndCatchUp(cluster, before.leader, after.leader);
  }
  const sorted = [...electionsMs].sort((a, b) => a - b);
  process.stdout.write(`  median ${percentile(sorted, 50).toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms\n`);
}

async function restartAndCatchUp(cluster: LockManagerCluster, killed: string, leader: string): Promise<void> {
  await cluster.startNode(killed);
  const commit = (await cluster.raft(leader))?.commit ?? 0;
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  for (;;) {
    const v = await cluster.raft(killed);
    if (v?.leader && v.applied >= commit) return;
    if (Date.now() > deadline) throw new Error(`${killed} did not catch up within ${CATCH_UP_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/**
 * Clients loop acquire+release (half on their own resource, half queued on one contended lock);
 * the leader is killed; each client's figure is the time from the kill until an acquire of its
 * resolves with a grant. A round's figure is its slowest client.
 */
async function failovers(cluster: LockManagerCluster, rpc: RpcClient): Promise<void> {
  process.stdout.write(
    `\nnext grant after kill -9 of the leader (${FAILOVER_ROUNDS_RUN} rounds; ${FAILOVER_CLIENTS} clients looping on distinct resources, ${FAILOVER_CLIENTS} on one contended lock)\n`,
  );
  const worstMs: number[] = [];
  const allMs: number[] = [];
  for (let round = 1; round <= FAILOVER_ROUNDS_RUN; round++) {
    const before = await cluster.leader();
    const survivors = cluster.instances.filter((i) => i !== before.leader);
    let stop = false;
    let killedAt = Number.POSITIVE_INFINITY;
    let errors = 0;
    const nextGrantMs: (number | undefined)[] = [];
    const worker = async (i: number, contended: boolean) => {
      const client = new LockClient(rpc, { owner: `failover-${round}-${contended ? 'c' : 'd'}-${i}` });
      const resource = contended ? `failover-${round}-contended` : `failover-${round}-${i}`;
      const slot = nextGrantMs.push(undefined) - 1;
      while (!stop) {
        try {
          const grant = await client.acquire(resource, { ttlMs: FAILOVER_TTL_MS, waitMs: contended ? FAILOVER_WAIT_MS : 0 });
          const at = performance.now();
          if (at > killedAt && nextGrantMs[slot] === undefined) nextGrantMs[slot] = at - killedAt;
          await client.release(grant).catch(() => errors++);
        } catch {
          errors++;
        }
      }
    };
    const loops = [...Array.from({ length: FAILOVER_CLIENTS }, (_, i) => worker(i, false)), ...Array.from({ length: FAILOVER_CLIENTS }, (_, i) => worker(i, true))];
    await sleep(FAILOVER_WARM_MS);
    killedAt = performance.now();
    await cluster.kill(before.leader, 'SIGKILL');
    const deadline = Date.now() + FAILOVER_GRANT_TIMEOUT_MS;
    while (nextGrantMs.some((ms) => ms === undefined) && Date.now() < deadline) await sleep(POLL_MS);
    stop = true;
    await Promise.all(loops);
    const got = nextGrantMs.filter((ms): ms is number => ms !== undefined).sort((a, b) => a - b);
    const missing = nextGrantMs.length - got.length;
    const worst = missing > 0 ? Infinity : got[got.length - 1];
    worstMs.push(worst);
    allMs.push(...got);
    const after = await cluster.leader(survivors, ELECTION_TIMEOUT_MS);
    process.stdout.write(
      `  round ${String(round).padStart(2)}: ${before.leader} killed -> ${after.leader}; next grant p50 ${percentile(got, 50).toFixed(0)} ms, max ${worst.toFixed(0)} ms${missing ? ` (${missing} clients got none within ${FAILOVER_GRANT_TIMEOUT_MS} ms)` : ''}, ${errors} errors\n`,
    );
    await restartAndCatchUp(cluster, before.leader, after.leader);
  }
  const sortedWorst = [...worstMs].sort((a, b) => a - b);
  allMs.sort((a, b) => a - b);
  process.stdout.write(
    `  slowest client per round: median ${percentile(sortedWorst, 50).toFixed(0)} ms, max ${sortedWorst[sortedWorst.length - 1].toFixed(0)} ms; all clients p50 ${percentile(allMs, 50).toFixed(0)} ms, p99 ${percentile(allMs, 99).toFixed(0)} ms\n`,
  );
}

async function pollNewLeader(cluster: LockManagerCluster, survivors: readonly string[], oldTerm: number): Promise<{ leader: string; term: number }> {
  const deadline = Date.now() + ELECTION_TIMEOUT_MS;
  for (;;) {
    const views = await Promise.all(survivors.map((i) => cluster.raft(i)));
    const lead = views.find((v) => v?.role === 'leader' && v.term > oldTerm);
    if (lead && views.every((v) => v?.leader && v.term === lead.term)) return { leader: survivors[views.indexOf(lead)], term: lead.term };
    if (Date.now() > deadline) throw new Error(`no new leader within ${ELECTION_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench:locks failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
