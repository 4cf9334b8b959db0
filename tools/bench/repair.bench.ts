/**
 * npm run bench:repair [-- --quick] [-- --sweep-interval-ms=5000] — the scheduler's self-healing on
 * a real region (metadata, a lock-manager, storage nodes, access and the scheduler as separate
 * processes on this disk), each figure beside references measured in the same run, just before
 * and just after it (both are printed: this machine is shared and noisy):
 * - repair: a node is stopped, 1 GiB (128 MiB with --quick) of 1 MiB objects is written without
 *   it, and it comes back: MB/s of repair against the throttle, the disk's write rate and the
 *   copy path alone (the copier's HEAD, verified GET and PUT, driven from here at the sweep's
 *   concurrency and at more), and the time from its return until every referenced chunk is on
 *   all three nodes; once at the default throttle, once at a throttle far above the disk. The
 *   region runs no monitoring (whose NodeRecovered starts a sweep at once), so the repair starts
 *   at the next interval sweep: the interval is short here, and the wait is printed;
 * - rebalance: a fourth node joins: MB/s moved against the throttle and the disk, the planner's
 *   estimate against the actual duration, and the ETA's error at 25/50/75% of the move;
 * - scrub: "scrub now" at a pace far above the disk, per node from each pass's verified bytes over
 *   its duration, one node alone and all four at once, from disk (the chunk files evicted from the
 *   page cache first) and from memory, against reading and hashing a file.
 * The region lives in its own namespace and temporary directory; both are removed at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NodePools, StorageNodeClient } from '@cairn/chunk-client';
import type { ContentHash } from '@cairn/hashing';
import { eventually } from '@cairn/testing';
import { benchCredentials } from './bench-credentials';
import { chunkFileOf, sha256, TestRegion } from '../../apps/scheduler/src/testing/region.e2e-helper';
import { cpuSecondsOf } from './process-cpu';
const { ensureLocalServices } = require('../services/local-services') as { ensureLocalServices: () => Promise<unknown> };

const KiB = 1024;
const MiB = 1024 * KiB;
const MB = 1e6;
/** One object is one chunk file (the region's chunk size is 1 MiB, past the pack threshold). */
const OBJECT_BYTES = MiB;
const MISSED_BYTES = { full: 1024 * MiB, quick: 128 * MiB };
/** The scheduler's default CAIRN_REPAIR_BYTES_PER_SECOND. */
const DEFAULT_THROTTLE_BYTES_PER_SECOND = 64 * MiB;
/** Far above what this disk takes: repair goes as fast as the scheduler and the nodes can. */
const UNTHROTTLED_BYTES_PER_SECOND = 4096 * MiB;
/** The quick move is a quarter of the quick data: a slower pace keeps it long enough to sample. */
const REBALANCE_THROTTLE_BYTES_PER_SECOND = { full: DEFAULT_THROTTLE_BYTES_PER_SECOND, quick: 16 * MiB };
/** "Scrub now" runs at CAIRN_SCRUB_MAX_BYTES_PER_SECOND: this is far above the disk. */
const SCRUB_PACE_BYTES_PER_SECOND = 16 * 1024 * MiB;
const PUT_IN_FLIGHT = 4;
const DISK_REFERENCE_BYTES = 256 * MiB;
const DISK_BLOCK_BYTES = 4 * MiB;
const HASH_UPDATE_BYTES = 64 * KiB;
/**
 * The bench watches from outside without loading what it measures: chunk files are checked on
 * disk (a node's own listing costs it ~0.1 ms of CPU per chunk held), and the admin API (~6 ms of
 * the scheduler's CPU per GET /admin/jobs) is polled this often.
 */
const POLL_MS = 500;
const JOBS_POLL_MS = 250;
/** Every wait in the bench ends by then, done or not. */
const PHASE_TIMEOUT_MS = 10 * 60_000;
const REGION_START_TIMEOUT_MS = 180_000;
const ETA_FRACTIONS = [0.25, 0.5, 0.75];
/** The sweep copies this many chunks at once (SWEEP_COPY_CONCURRENCY); the copy path is timed at it and at more. */
const COPY_PATH_LANES = [2, 8];
const COPY_PATH_CHUNKS_MAX = 64;
const WORKSPACE = path.resolve(__dirname, '../..');
const DATA_PLANE_SCRIPT = path.join(WORKSPACE, 'apps/storage/src/testing/standalone-data-plane.ts');
const SCRATCH_NODE = 'scratch';

const NODES = ['storage-1', 'storage-2', 'storage-3'];
const RETURNING = 'storage-3';
const JOINING = 'storage-4';
const ALL = [...NODES, JOINING];
const SCHEDULER = 'scheduler-1';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'sweep-interval-ms': { type: 'string', default: '5000' },
  },
});
const SIZE: 'full' | 'quick' = args.quick ? 'quick' : 'full';
const SWEEP_INTERVAL_MS = Number(args['sweep-interval-ms']);

/** The parts of the scheduler's admin API (GET /admin/jobs, /admin/scrub, /admin/plan) read here. */
interface Progress {
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly elapsedMs: number;
  readonly ratePerSecond: number | null;
  readonly etaSeconds: number | null;
}
interface Sweep {
  readonly id: string;
  readonly state: string;
  readonly startedAt: string;
  readonly work: { readonly repair: Progress; readonly rebalance: Progress; readonly gc: Progress };
}
interface Jobs {
  readonly sweep: { readonly running: Sweep | null; readonly last: Sweep | null; readonly lastComplete: Sweep | null };
  readonly repairQueue: Record<string, number>;
  readonly workers: readonly { readonly name: string; readonly progress?: { readonly doneItems?: number; readonly doneBytes?: number; readonly detail?: string } }[];
}
interface ScrubNode {
  readonly nodeId: string;
  readonly previousPass: { readonly startedAt: string; readonly finishedAt: string | null; readonly verifiedBytes: number; readonly verifiedChunks: number } | null;
}
interface Plan {
  readonly bytesToCopy: number;
  readonly estimatedSeconds: number;
}

type Row = [what: string, cairn: string, reference: string, ratio: string];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
const fmt = (n: number, digits = 0) => n.toFixed(digits);
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const ofThrottle = (bytesPerSecond: number) => `${bytesPerSecond / MiB} MiB/s`;

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Drops a directory's files from the page cache (posix_fadvise DONTNEED, file by file): only these files, nobody else's. */
function evictFromPageCache(dir: string): void {
  const result = spawnSync('find', [dir, '-type', 'f', '-exec', 'dd', 'if={}', 'iflag=nocache', 'count=0', 'status=none', ';'], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`could not evict ${dir} from the page cache`);
}

/** The machine-limits write figure (docs/benchmarks.md): 256 MiB of new data in 4 MiB blocks, fsync at the end. */
async function diskWriteMBps(dir: string): Promise<number> {
  const block = randomBytes(DISK_BLOCK_BYTES);
  const file = path.join(dir, `disk-write-${randomBytes(4).toString('hex')}`);
  const started = performance.now();
  const fh = await fsp.open(file, 'w');
  for (let written = 0; written < DISK_REFERENCE_BYTES; written += DISK_BLOCK_BYTES) await fh.write(block, 0, DISK_BLOCK_BYTES);
  await fh.sync();
  await fh.close();
  const rate = mbps(DISK_REFERENCE_BYTES, performance.now() - started);
  await fsp.rm(file);
  return rate;
}

/** Reading a 256 MiB file with a 4 MiB read stream, from disk (evicted first) and from the page cache; SHA-256 on one core. */
async function readReferences(dir: string): Promise<{ diskMBps: number; cacheMBps: number; sha256MBps: number }> {
  const file = path.join(dir, `disk-read-${randomBytes(4).toString('hex')}`);
  const block = randomBytes(DISK_BLOCK_BYTES);
  const fh = await fsp.open(file, 'w');
  for (let written = 0; written < DISK_REFERENCE_BYTES; written += DISK_BLOCK_BYTES) await fh.write(block, 0, DISK_BLOCK_BYTES);
  await fh.sync();
  await fh.close();
  const read = async () => {
    const started = performance.now();
    for await (const piece of createReadStream(file, { highWaterMark: DISK_BLOCK_BYTES })) void piece;
    return mbps(DISK_REFERENCE_BYTES, performance.now() - started);
  };
  evictFromPageCache(path.dirname(file));
  const diskMBps = await read();
  const cacheMBps = await read();
  await fsp.rm(file);
  const hash = createHash('sha256');
  const started = performance.now();
  for (let done = 0; done < DISK_REFERENCE_BYTES; done += HASH_UPDATE_BYTES) hash.update(block.subarray(done % DISK_BLOCK_BYTES, (done % DISK_BLOCK_BYTES) + HASH_UPDATE_BYTES));
  hash.digest();
  return { diskMBps, cacheMBps, sha256MBps: mbps(DISK_REFERENCE_BYTES, performance.now() - started) };
}

async function restartScheduler(region: TestRegion, env: Record<string, string>): Promise<void> {
  if (region.schedulers.has(SCHEDULER)) await region.scheduler(SCHEDULER).stop();
  await region.startScheduler(SCHEDULER, env);
}

const jobs = async (region: TestRegion) => (await region.admin<Jobs>('GET', '/admin/jobs')).body;

/** Bytes the event-driven repair jobs (missed writes, corruption, read failovers) copied, as the scheduler process counts them. */
function eventRepairBytes(j: Jobs): number {
  return j.workers.find((w) => w.name === 'chunk-repair')?.progress?.doneBytes ?? 0;
}

/** Distinct 1 MiB bodies (a random block, its first bytes made unique), PUT a few at a time; their chunk hashes. */
async function writeObjects(region: TestRegion, bucket: string, bytes: number): Promise<{ hashes: string[]; ms: number }> {
  const seed = randomBytes(OBJECT_BYTES);
  const tag = randomBytes(8);
  const count = bytes / OBJECT_BYTES;
  const hashes: string[] = [];
  const started = performance.now();
  await inParallel([...Array(count).keys()], PUT_IN_FLIGHT, async (i) => {
    const body = Buffer.from(seed);
    tag.copy(body, 0);
    body.writeUInt32BE(i, tag.length);
    hashes.push(sha256(body));
    await region.put(bucket, `o/${i}`, body);
  });
  return { hashes, ms: performance.now() - started };
}

/** Write times of the given chunks on a node, from their files (the node stamps a chunk's file when it writes it). */
async function writtenAtMs(region: TestRegion, nodeId: string, hashes: readonly string[]): Promise<number[]> {
  const dir = region.nodes.get(nodeId)!.dataDir;
  return Promise.all(hashes.map(async (h) => (await fsp.stat(chunkFileOf(dir, h))).mtimeMs));
}

/** A storage node's data plane alone, outside the region: the target of the copy-path reference. */
async function startScratchNode(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', DATA_PLANE_SCRIPT], { cwd: WORKSPACE, env: { ...process.env, CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the scratch node exited with ${code}`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * The repair's copy path without the scheduler: per chunk, as the copier does it, a HEAD on the
 * target, a verified GET from a source, a PUT to the target (here a scratch node), `lanes` at once.
 */
async function copyPathMBps(region: TestRegion, scratchUrl: string, source: string, hashes: readonly string[], lanes: number): Promise<number> {
  const pools = new NodePools((nodeId) => (nodeId === SCRATCH_NODE ? scratchUrl : region.nodes.get(nodeId)!.url), benchCredentials('bench/repair').httpInterceptor());
  const nodes = new StorageNodeClient(pools);
  try {
    const started = performance.now();
    await inParallel(hashes, lanes, async (hash) => {
      if ((await nodes.head(SCRATCH_NODE, hash as ContentHash)) !== null) throw new Error(`the scratch node holds ${hash} already`);
      const bytes = await nodes.readVerified(source, hash as ContentHash);
      await nodes.put(SCRATCH_NODE, hash as ContentHash, bytes);
    });
    return mbps(hashes.length * OBJECT_BYTES, performance.now() - started);
  } finally {
    await pools.close();
  }
}

interface RepairFigures {
  readonly throttle: number;
  readonly missedBytes: number;
  readonly putMBps: number;
  /** Measured just before the node came back and just after it had everything. */
  readonly diskWriteMBps: readonly [number, number];
  /** The copy window: first to last chunk written on the returning node. */
  readonly repairMBps: number;
  readonly firstCopyAfterMs: number;
  readonly fullRf3AfterMs: number;
  readonly byEventsBytes: number;
  /** The copy path alone, just before the node came back, by lanes. */
  readonly copyPathMBps: readonly { readonly lanes: number; readonly mbps: number }[];
  /** The sweeps that did the repair, as each reported itself. */
  readonly sweeps: readonly Progress[];
  readonly cpuSeconds: Record<string, number>;
}

async function repairPhase(region: TestRegion, throttle: number, missedBytes: number, scratch: string): Promise<RepairFigures> {
  await restartScheduler(region, { CAIRN_REPAIR_BYTES_PER_SECOND: String(throttle) });
  const bucket = `repair-${throttle / MiB}`;
  await region.s3.send(new CreateBucketCommand({ Bucket: bucket }));

  await region.stopNode(RETURNING);
  const outageStartedAtMs = Date.now();
  const { hashes, ms: putMs } = await writeObjects(region, bucket, missedBytes);
  const diskBefore = await diskWriteMBps(scratch);
  const scratchNode = await startScratchNode(await fsp.mkdtemp(path.join(scratch, 'node-')));
  const copyPath: { lanes: number; mbps: number }[] = [];
  try {
    const perRun = Math.min(COPY_PATH_CHUNKS_MAX, Math.floor(hashes.length / (2 * COPY_PATH_LANES.length)));
    for (const [i, lanes] of COPY_PATH_LANES.entries()) {
      copyPath.push({ lanes, mbps: await copyPathMBps(region, scratchNode.url, NODES[0], hashes.slice(i * perRun, (i + 1) * perRun), lanes) });
    }
  } finally {
    await stopChild(scratchNode.child);
  }

  await region.startNode(RETURNING);
  const returnedAtMs = Date.now();
  const pids = { scheduler: region.scheduler(SCHEDULER).child.pid, ...Object.fromEntries(NODES.map((n) => [n, region.nodes.get(n)!.process?.child.pid])) };
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));

  // Until the node holds every chunk it missed (its chunk files are there), following the sweeps that copy them.
  const sweeps = new Map<string, Progress>();
  const follow = (j: Jobs) => {
    for (const r of [j.sweep.running, j.sweep.last, j.sweep.lastComplete]) {
      if (r && r.work.repair.totalBytes > 0 && Date.parse(r.startedAt) >= outageStartedAtMs) sweeps.set(r.id, r.work.repair);
    }
  };
  const dataDir = region.nodes.get(RETURNING)!.dataDir;
  let pending = [...hashes];
  await eventually(
    async () => {
      follow(await jobs(region));
      const present = await Promise.all(pending.map((h) => fsp.access(chunkFileOf(dataDir, h)).then(() => true, () => false)));
      pending = pending.filter((_, i) => !present[i]);
      return pending.length === 0;
    },
    PHASE_TIMEOUT_MS,
    POLL_MS,
  );
  const cpuAfter = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  await eventually(async () => [...(await region.copiesOfReferenced(NODES)).values()].every((c) => c === NODES.length), PHASE_TIMEOUT_MS, POLL_MS);
  const diskAfter = await diskWriteMBps(scratch);
  const times = (await writtenAtMs(region, RETURNING, hashes)).sort((a, b) => a - b);
  const first = times[0];
  const last = times[times.length - 1];
  // The last repairing sweep's final report, once it is over.
  const over = await eventually(
    async () => {
      const j = await jobs(region);
      follow(j);
      return j.sweep.running && sweeps.has(j.sweep.running.id) ? undefined : j;
    },
    PHASE_TIMEOUT_MS,
    POLL_MS,
  );
  return {
    throttle,
    missedBytes,
    putMBps: mbps(missedBytes, putMs),
    diskWriteMBps: [diskBefore, diskAfter],
    // Between the first and the last chunk landing, all the others did.
    repairMBps: mbps(missedBytes - OBJECT_BYTES, last - first),
    firstCopyAfterMs: first - returnedAtMs,
    fullRf3AfterMs: last - returnedAtMs,
    byEventsBytes: eventRepairBytes(over),
    copyPathMBps: copyPath,
    sweeps: [...sweeps.values()],
    cpuSeconds: Object.fromEntries(Object.keys(pids).map((k) => [k, cpuAfter[k] - cpuBefore[k]])),
  };
}

interface RebalanceFigures {
  readonly throttle: number;
  readonly diskWriteMBps: readonly [number, number];
  readonly planned: Plan;
  readonly movedBytes: number;
  readonly actualMs: number;
  readonly copyWindowMBps: number;
  readonly etaErrors: readonly { readonly target: number; readonly fraction: number; readonly error: number }[];
  readonly exact: boolean;
}

async function rebalancePhase(region: TestRegion, throttle: number, scratch: string): Promise<RebalanceFigures> {
  await restartScheduler(region, { CAIRN_REPAIR_BYTES_PER_SECOND: String(throttle) });
  const plan = await region.admin<Plan>('GET', `/admin/plan?change=add&nodeId=${JOINING}&zone=zone-1&host=${JOINING}&weight=1`);
  if (plan.status !== 200) throw new Error(`plan: HTTP ${plan.status}`);
  const diskWrite = await diskWriteMBps(scratch);
  await region.startNode(JOINING);

  // Follow the sweep that moves data to the new node, sampling its ETA at 25, 50 and 75%.
  const samples: { target: number; fraction: number; elapsedMs: number; etaSeconds: number }[] = [];
  let moveId: string | null = null;
  let finished: Sweep | null = null;
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  while (!finished && Date.now() < deadline) {
    const { running, lastComplete } = (await jobs(region)).sweep;
    if (running && running.state === 'working' && running.work.rebalance.totalBytes > 0) {
      moveId ??= running.id;
      const w = running.work.rebalance;
      const target = ETA_FRACTIONS.find((t) => !samples.some((s) => s.target === t) && w.doneBytes / w.totalBytes >= t);
      if (running.id === moveId && target !== undefined && w.etaSeconds !== null && w.doneBytes < w.totalBytes) {
        samples.push({ target, fraction: w.doneBytes / w.totalBytes, elapsedMs: w.elapsedMs, etaSeconds: w.etaSeconds });
      }
    }
    if (moveId && lastComplete?.id === moveId) finished = lastComplete;
    await sleep(JOBS_POLL_MS);
  }
  if (!finished) throw new Error(`the move did not finish within ${PHASE_TIMEOUT_MS} ms`);
  const w = finished.work.rebalance;
  const diskAfter = await diskWriteMBps(scratch);
  const exact = await eventually(() => region.placementIsExact(ALL), PHASE_TIMEOUT_MS, 1_000).catch(() => false);
  const received = [...(await region.held(JOINING))];
  const times = (await writtenAtMs(region, JOINING, received)).sort((a, b) => a - b);
  return {
    throttle,
    diskWriteMBps: [diskWrite, diskAfter],
    planned: plan.body,
    movedBytes: w.doneBytes,
    actualMs: w.elapsedMs,
    copyWindowMBps: mbps((received.length - 1) * OBJECT_BYTES, times[times.length - 1] - times[0]),
    etaErrors: samples.map((s) => ({ target: s.target, fraction: s.fraction, error: (s.elapsedMs + s.etaSeconds * 1000 - w.elapsedMs) / w.elapsedMs })),
    exact,
  };
}

interface ScrubFigures {
  readonly label: string;
  readonly perNode: readonly { readonly nodeId: string; readonly bytes: number; readonly ms: number }[];
  readonly aggregateMBps: number;
}

/** "Scrub now" on the nodes and wait for each pass to finish; per node, its verified bytes over its duration. */
async function scrubRun(region: TestRegion, label: string, nodeIds: readonly string[]): Promise<ScrubFigures> {
  const requestedAtMs = Date.now();
  const started = await region.admin<{ started: string[] }>('POST', '/admin/scrub', { nodeIds });
  if (started.status !== 202) throw new Error(`scrub now: HTTP ${started.status}`);
  const passes = await eventually(
    async () => {
      const { nodes } = (await region.admin<{ nodes: ScrubNode[] }>('GET', '/admin/scrub')).body;
      const ours = nodeIds.map((id) => nodes.find((n) => n.nodeId === id)?.previousPass);
      const finished = ours.every((p) => p && p.finishedAt !== null && Date.parse(p.startedAt) >= requestedAtMs);
      return finished ? ours.map((p, i) => ({ nodeId: nodeIds[i], startedAtMs: Date.parse(p!.startedAt), finishedAtMs: Date.parse(p!.finishedAt!), bytes: p!.verifiedBytes })) : undefined;
    },
    PHASE_TIMEOUT_MS,
    JOBS_POLL_MS,
  );
  const span = Math.max(...passes.map((p) => p.finishedAtMs)) - Math.min(...passes.map((p) => p.startedAtMs));
  return {
    label,
    perNode: passes.map((p) => ({ nodeId: p.nodeId, bytes: p.bytes, ms: p.finishedAtMs - p.startedAtMs })),
    aggregateMBps: mbps(
      passes.reduce((a, p) => a + p.bytes, 0),
      span,
    ),
  };
}

/** Two measurements of a reference, before and after its figure: their mean, and both as "a–b". */
function twice(pair: readonly [number, number]): { mean: number; shown: string } {
  return { mean: (pair[0] + pair[1]) / 2, shown: `${fmt(pair[0])}–${fmt(pair[1])}` };
}

async function main(): Promise<void> {
  await ensureLocalServices();
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-bench-repair-'));
  const region = new TestRegion({
    CAIRN_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
    CAIRN_GC_GRACE_MS: String(3_600_000),
    // The scheduled (not "now") scrub at its floor pace, so it takes nothing from the figures before its own.
    CAIRN_SCRUB_MIN_BYTES_PER_SECOND: '1',
    CAIRN_SCRUB_MAX_BYTES_PER_SECOND: String(SCRUB_PACE_BYTES_PER_SECOND),
  });
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= Promise.all([region.stop(), fsp.rm(scratch, { recursive: true, force: true })]).then(() => undefined));
  process.once('SIGINT', () => {
    void stop().finally(() => process.exit(130));
  });

  const missedBytes = MISSED_BYTES[SIZE];
  const rows: Row[] = [];
  const notes: string[] = [];
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg()[0];
  try {
    await Promise.race([
      region.start(NODES.length),
      sleep(REGION_START_TIMEOUT_MS).then(() => {
        throw new Error('the region did not start');
      }),
    ]);
    // Warm-up: the disk path and the access gateway's first requests.
    await diskWriteMBps(scratch);
    await restartScheduler(region, {});
    await region.s3.send(new CreateBucketCommand({ Bucket: 'warm-up' }));
    await writeObjects(region, 'warm-up', 16 * OBJECT_BYTES);

    for (const throttle of [DEFAULT_THROTTLE_BYTES_PER_SECOND, UNTHROTTLED_BYTES_PER_SECOND]) {
      const r = await repairPhase(region, throttle, missedBytes, scratch);
      const disk = twice(r.diskWriteMBps);
      const label = `throttle ${ofThrottle(throttle)}`;
      const missed = `${missedBytes / MiB} MiB`;
      const boundMs = Math.max(missedBytes / throttle, missedBytes / MB / disk.mean) * 1000;
      rows.push([
        `repair, ${label}: MB/s onto the returning node`,
        fmt(r.repairMBps),
        `throttle ${fmt(throttle / MB)} · disk write ${disk.shown}`,
        `${pct(r.repairMBps * MB, throttle)} · ${pct(r.repairMBps, disk.mean)}`,
      ]);
      const twoLanes = r.copyPathMBps.find((c) => c.lanes === COPY_PATH_LANES[0])!;
      rows.push([
        `  the copy path alone (HEAD, verified GET, PUT), ${r.copyPathMBps.map((c) => c.lanes).join(' / ')} in flight`,
        r.copyPathMBps.map((c) => fmt(c.mbps)).join(' / '),
        `repair above: ${fmt(r.repairMBps)} (the sweep copies ${COPY_PATH_LANES[0]} at once)`,
        `repair ${pct(r.repairMBps, twoLanes.mbps)} of ${twoLanes.lanes} in flight`,
      ]);
      rows.push([
        `node back → full rf=3, ${missed} missed, ${label}`,
        `${fmt(r.fullRf3AfterMs / 1000, 1)} s`,
        `${fmt(boundMs / 1000, 1)} s at min(throttle, disk)`,
        `${(r.fullRf3AfterMs / boundMs).toFixed(2)}x`,
      ]);
      const cpu = Object.entries(r.cpuSeconds)
        .map(([k, sec]) => `${k} ${fmt(sec, 1)}`)
        .join(', ');
      const swept = r.sweeps.reduce((a, w) => a + w.doneBytes, 0);
      const sweepRates = r.sweeps.map((w) => (w.ratePerSecond === null ? '-' : fmt(w.ratePerSecond / MB))).join(', ');
      notes.push(
        `repair at ${label}: ${missed} PUT with ${RETURNING} down at ${fmt(r.putMBps)} MB/s. First chunk back ${fmt(r.firstCopyAfterMs / 1000, 1)} s after ` +
          `its return (the next interval sweep; this region runs no monitoring, whose NodeRecovered would start one at once), last ${fmt(r.fullRf3AfterMs / 1000, 1)} s. ` +
          `${r.sweeps.length} sweep(s) copied ${fmt(swept / MiB)} MiB (their own rates ${sweepRates} MB/s), event-driven jobs ${fmt(r.byEventsBytes / MiB)} MiB. ` +
          `CPU seconds from the return to the last chunk: ${cpu}.`,
      );
    }

    const rb = await rebalancePhase(region, REBALANCE_THROTTLE_BYTES_PER_SECOND[SIZE], scratch);
    const rbDisk = twice(rb.diskWriteMBps);
    const rebalanceMBps = mbps(rb.movedBytes, rb.actualMs);
    rows.push([
      `rebalance, 4th node, throttle ${ofThrottle(rb.throttle)}: MB/s moved`,
      fmt(rebalanceMBps),
      `throttle ${fmt(rb.throttle / MB)} · disk write ${rbDisk.shown}`,
      `${pct(rebalanceMBps * MB, rb.throttle)} · ${pct(rebalanceMBps, rbDisk.mean)}`,
    ]);
    rows.push([
      `rebalance: ${fmt(rb.movedBytes / MiB)} MiB moved, duration`,
      `${fmt(rb.actualMs / 1000, 1)} s`,
      `planner: ${fmt(rb.planned.estimatedSeconds, 1)} s for ${fmt(rb.planned.bytesToCopy / MiB)} MiB`,
      `planner ${signedPct((rb.planned.estimatedSeconds * 1000 - rb.actualMs) / rb.actualMs)}`,
    ]);
    rows.push([
      'rebalance ETA error at 25 / 50 / 75%',
      rb.etaErrors.map((e) => signedPct(e.error)).join(' / ') || 'no samples',
      'actual duration (elapsed + ETA vs end)',
      `max |${fmt(100 * Math.max(0, ...rb.etaErrors.map((e) => Math.abs(e.error))), 1)}%|`,
    ]);
    notes.push(
      `rebalance: ${fmt(rb.copyWindowMBps)} MB/s between the first and the last chunk landing on ${JOINING}; ETA sampled at ` +
        `${rb.etaErrors.map((e) => pct(e.fraction, 1)).join(', ')} done; placement exact afterwards: ${rb.exact}.`,
    );

    const before = await readReferences(scratch);
    const scrubs: ScrubFigures[] = [];
    for (const n of ALL) evictFromPageCache(region.nodes.get(n)!.dataDir);
    scrubs.push(await scrubRun(region, 'one node alone, from disk', ['storage-1']));
    for (const n of ALL) evictFromPageCache(region.nodes.get(n)!.dataDir);
    scrubs.push(await scrubRun(region, `${ALL.length} nodes at once, from disk`, ALL));
    scrubs.push(await scrubRun(region, `${ALL.length} nodes at once, page cache`, ALL));
    const after = await readReferences(scratch);
    const sha = twice([before.sha256MBps, after.sha256MBps]);
    for (const s of scrubs) {
      const fromDisk = s.label.endsWith('disk');
      const reference = fromDisk ? twice([before.diskMBps, after.diskMBps]) : twice([before.cacheMBps, after.cacheMBps]);
      const perNode = s.perNode.map((p) => mbps(p.bytes, p.ms));
      const mean = perNode.reduce((a, b) => a + b, 0) / perNode.length;
      rows.push([
        `scrub MB/s per node, ${s.label}`,
        s.perNode.length === 1 ? fmt(perNode[0]) : `${perNode.map((r) => fmt(r)).join(' / ')} (sum ${fmt(s.aggregateMBps)})`,
        `${fromDisk ? 'disk' : 'page-cache'} read ${reference.shown} · SHA-256 ${sha.shown}`,
        s.perNode.length === 1 ? pct(mean, reference.mean) : `${pct(mean, reference.mean)} each · ${pct(s.aggregateMBps, reference.mean)} in all`,
      ]);
    }
    notes.push(`scrub passes verified ${scrubs[1].perNode.map((p) => `${p.nodeId} ${fmt(p.bytes / MiB)} MiB`).join(', ')}.`);
  } finally {
    await stop();
  }

  const header: Row = ['what', 'Cairn', 'reference (same run: before–after)', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(
    `\nrepair benchmark (${SIZE}: ${missedBytes / MiB} MiB missed per repair run, 1 MiB objects, sweep every ${SWEEP_INTERVAL_MS} ms) — ` +
      `${os.cpus().length} cores, node ${process.version}, ${startedAt}, 1-min load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end\n`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
