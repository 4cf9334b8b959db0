/**
 * npm run bench:storage — chunk PUT/GET throughput of real storage nodes (separate processes,
 * real disk, loopback HTTP through @cairn/chunk-client), each beside a raw-disk figure measured
 * in the same run on the same bytes, and a node's memory while 1 GiB streams through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp, createReadStream, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { HashRing, contentHashOf, type ContentHash } from '@cairn/hashing';
import { ChunkClient, InMemoryUnderReplicationRecorder, ringReplication } from '@cairn/chunk-client';
import { benchCredentials } from './bench-credentials';
import { cpuSecondsOf } from './process-cpu';

// Before any node starts: they inherit the cluster secret from this process's environment.
const SIGNER = benchCredentials('bench/storage').httpInterceptor();

const MiB = 1024 * 1024;
const LARGE_CHUNK_BYTES = 8 * MiB;
const LARGE_CHUNKS = 32;
const LARGE_IN_FLIGHT = 4;
const SMALL_CHUNK_BYTES = 4 * 1024;
const SMALL_CHUNKS = 3000;
const SMALL_IN_FLIGHT = 64;
const RAW_SMALL_FILES = 400;
const STREAM_TOTAL_BYTES = 1024 * MiB;
const RSS_SAMPLE_MS = 50;
const WORKSPACE = path.resolve(__dirname, '../..');
const DATA_PLANE_SCRIPT = path.join(WORKSPACE, 'apps/storage/src/testing/standalone-data-plane.ts');
/** `-- --only large`: the 8 MiB chunk rows alone (with the nodes' CPU), for short A/B runs. */
const ONLY_LARGE = process.argv.includes('--only') && process.argv[process.argv.indexOf('--only') + 1] === 'large';

interface Node {
  nodeId: string;
  url: string;
  child: ChildProcess;
}

async function startNode(nodeId: string, dataDir: string): Promise<Node> {
  // CAIRN_CPU_PROFILE_DIR=<dir>: each node writes a V8 CPU profile there when it exits (as `npm start` does).
  const profileDir = process.env['CAIRN_CPU_PROFILE_DIR'];
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
  const child = spawn(process.execPath, [...profiling, '-r', '@swc-node/register', DATA_PLANE_SCRIPT], {
    cwd: WORKSPACE,
    env: { ...process.env, CAIRN_DATA_DIR: dataDir, CAIRN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${nodeId} exited with ${code}`)));
  });
  return { nodeId, url: (JSON.parse(line) as { url: string }).url, child };
}

async function stopNode(n: Node): Promise<void> {
  const exited = new Promise((r) => n.child.once('exit', r));
  n.child.kill('SIGTERM');
  await exited;
}

function rssBytesOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

async function rawLargeWrite(dir: string, chunks: Buffer[]): Promise<number> {
  const started = performance.now();
  await inParallel(chunks.map((c, i) => ({ c, i })), LARGE_IN_FLIGHT, async ({ c, i }) => {
    const fh = await fsp.open(path.join(dir, `raw-${i}`), 'w');
    await fh.write(c);
    await fh.sync();
    await fh.close();
  });
  return (chunks.length * LARGE_CHUNK_BYTES) / MiB / ((performance.now() - started) / 1000);
}

async function rawLargeRead(dir: string, count: number): Promise<number> {
  const started = performance.now();
  await inParallel([...Array(count).keys()], LARGE_IN_FLIGHT, async (i) => {
    for await (const _ of createReadStream(path.join(dir, `raw-${i}`), { highWaterMark: MiB })) void _;
  });
  return (count * LARGE_CHUNK_BYTES) / MiB / ((performance.now() - started) / 1000);
}

async function rawSmallWrites(dir: string): Promise<number> {
  const data = randomBytes(SMALL_CHUNK_BYTES);
  const started = performance.now();
  for (let i = 0; i < RAW_SMALL_FILES; i++) {
    const fh = await fsp.open(path.join(dir, `small-${i}`), 'w');
    await fh.write(data);
    await fh.sync();
    await fh.close();
  }
  return RAW_SMALL_FILES / ((performance.now() - started) / 1000);
}

async function withCluster<T>(root: string, rf: number, work: (client: ChunkClient, nodes: Node[]) => Promise<T>): Promise<T> {
  const nodes = await Promise.all(['n1', 'n2', 'n3'].slice(0, rf).map(async (id) => startNode(id, await fsp.mkdtemp(path.join(root, `${id}-`)))));
  const ring = HashRing.build({ epoch: 1, members: nodes.map((n, i) => ({ nodeId: n.nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 })) });
  const urls = new Map(nodes.map((n) => [n.nodeId, n.url]));
  const client = new ChunkClient({
    ring: () => ring,
    addressOf: (id) => urls.get(id) ?? '',
    signer: SIGNER,
    underReplication: new InMemoryUnderReplicationRecorder(),
    strategy: ringReplication(`rf${rf}`, rf, rf === 1 ? 1 : 2),
  });
  try {
    return await work(client, nodes);
  } finally {
    await client.close();
    await Promise.all(nodes.map(stopNode));
  }
}

/** CPU (ms) per MiB of chunk data: the nodes' summed and each node's, from /proc, and this process's (the chunk client). */
interface CpuPerMiB {
  nodesMs: number;
  perNodeMs: number[];
  clientMs: number;
}

async function measureCpu(nodes: readonly Node[], mib: number, work: () => Promise<void>): Promise<CpuPerMiB> {
  const nodesBefore = nodes.map((n) => cpuSecondsOf(n.child.pid));
  const clientBefore = process.cpuUsage();
  await work();
  const client = process.cpuUsage(clientBefore);
  const perNodeMs = nodes.map((n, i) => ((cpuSecondsOf(n.child.pid) - nodesBefore[i]) * 1000) / mib);
  return { nodesMs: perNodeMs.reduce((a, b) => a + b, 0), perNodeMs, clientMs: (client.user + client.system) / 1000 / mib };
}

async function chunkPutGet(client: ChunkClient, nodes: readonly Node[], chunks: Buffer[]): Promise<{ put: number; get: number; putCpu: CpuPerMiB; getCpu: CpuPerMiB }> {
  const hashes: ContentHash[] = [];
  const mib = (chunks.length * LARGE_CHUNK_BYTES) / MiB;
  let started = performance.now();
  const putCpu = await measureCpu(nodes, mib, () =>
    inParallel(chunks, LARGE_IN_FLIGHT, async (c) => {
      hashes.push((await client.writeChunk(c)).hash);
    }),
  );
  const put = mib / ((performance.now() - started) / 1000);
  started = performance.now();
  const getCpu = await measureCpu(nodes, mib, () =>
    inParallel(hashes, LARGE_IN_FLIGHT, async (h) => {
      for await (const _ of (await client.readChunk(h)).stream) void _;
    }),
  );
  const get = mib / ((performance.now() - started) / 1000);
  return { put, get, putCpu, getCpu };
}

function cpuCell(cpu: CpuPerMiB): string {
  return `${cpu.nodesMs.toFixed(2)} ms (${cpu.perNodeMs.map((ms) => ms.toFixed(2)).join(' + ')})`;
}

type Row = [string, string, string, string];

/** 4 KiB chunk PUTs against one-at-a-time file writes, and a node's memory while 1 GiB streams through it. */
async function smallPutAndMemoryRows(root: string, rawDir: string): Promise<Row[]> {
  const fmt = (n: number) => n.toFixed(0);
  const rows: Row[] = [];
  const smallRaw = await rawSmallWrites(rawDir);
  const smallPuts = await withCluster(root, 1, async (client) => {
    const items = Array.from({ length: SMALL_CHUNKS }, (_, i) => {
      const d = randomBytes(SMALL_CHUNK_BYTES);
      d.writeUInt32BE(i, 0);
      return d;
    });
    const started = performance.now();
    await inParallel(items, SMALL_IN_FLIGHT, async (d) => void (await client.writeChunk(d)));
    return SMALL_CHUNKS / ((performance.now() - started) / 1000);
  });
  rows.push([`4 KiB chunk PUT, rf=1, ${SMALL_IN_FLIGHT} in flight (PUT/s)`, fmt(smallPuts), `${fmt(smallRaw)} (4 KiB file write+fsync, one at a time)`, `${(smallPuts / smallRaw).toFixed(1)}x`]);

  const memory = await withCluster(root, 1, async (client, nodes) => {
    const pid = nodes[0].child.pid ?? 0;
    const baseline = rssBytesOf(pid);
    let peak = baseline;
    let clientPeak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssBytesOf(pid));
      clientPeak = Math.max(clientPeak, process.memoryUsage().rss);
    }, RSS_SAMPLE_MS);
    const started = performance.now();
    const base = randomBytes(LARGE_CHUNK_BYTES);
    for (let i = 0; i < STREAM_TOTAL_BYTES / LARGE_CHUNK_BYTES; i++) {
      base.writeUInt32BE(i, 0);
      base.writeUInt32BE(0xbeef, 4);
      const { hash } = await client.writeChunk(base);
      for await (const _ of (await client.readChunk(hash)).stream) void _;
    }
    clearInterval(sampler);
    return { baseline, peak, clientPeak, seconds: (performance.now() - started) / 1000 };
  });
  rows.push([
    '1 GiB through one node (128 x 8 MiB, PUT then GET)',
    `${fmt(memory.peak / MiB)} MiB peak RSS`,
    `${fmt(memory.baseline / MiB)} MiB at rest`,
    `+${fmt((memory.peak - memory.baseline) / MiB)} MiB; client peak ${fmt(memory.clientPeak / MiB)} MiB; ${fmt((2 * STREAM_TOTAL_BYTES) / MiB / memory.seconds)} MB/s`,
  ]);
  return rows;
}

async function main(): Promise<void> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-bench-storage-'));
  const rows: Row[] = [];
  const fmt = (n: number) => n.toFixed(0);
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
  try {
    const seed = randomBytes(LARGE_CHUNK_BYTES);
    const chunks = Array.from({ length: LARGE_CHUNKS }, (_, i) => {
      const c = Buffer.from(seed);
      c.writeUInt32BE(i, 0);
      c.writeUInt32BE(Date.now() >>> 0, 4);
      return c;
    });
    const rawDir = await fsp.mkdtemp(path.join(root, 'raw-'));
    // Warm-up, then each figure beside its raw reference, back to back.
    await rawLargeWrite(rawDir, chunks.slice(0, 4));
    for (const rf of [1, 3]) {
      const raw = await rawLargeWrite(rawDir, chunks);
      const rawRead = await rawLargeRead(rawDir, chunks.length);
      const fresh = chunks.map((c) => {
        const d = Buffer.from(c);
        d.writeUInt32BE(rf, 8);
        return d;
      });
      const { put, get, putCpu, getCpu } = await withCluster(root, rf, (client, nodes) => chunkPutGet(client, nodes, fresh));
      rows.push([`8 MiB chunk PUT, rf=${rf} (MB/s of chunk data)`, fmt(put), `${fmt(raw)} (fsync'd sequential write)`, rf === 1 ? pct(put, raw) : `${pct(put * rf, raw)} of disk bytes (${rf} copies)`]);
      rows.push([`  nodes' CPU per MiB written, rf=${rf}`, cpuCell(putCpu), `client ${putCpu.clientMs.toFixed(2)} ms`, '']);
      rows.push([`8 MiB chunk GET, rf=${rf} (MB/s, verified)`, fmt(get), `${fmt(rawRead)} (read stream, page cache)`, pct(get, rawRead)]);
      rows.push([`  nodes' CPU per MiB read, rf=${rf}`, cpuCell(getCpu), `client ${getCpu.clientMs.toFixed(2)} ms`, '']);
    }
    if (!ONLY_LARGE) rows.push(...(await smallPutAndMemoryRows(root, rawDir)));
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
  const header: [string, string, string, string] = ['what', 'Cairn', 'raw reference (same run)', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nstorage benchmark — ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString()}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`\n(hashing check: ${contentHashOf('bench').slice(0, 8)})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
