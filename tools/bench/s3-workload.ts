/**
 * The load `npm run bench` puts on one S3 server, run in a process of its own: the bench's own
 * process parents the private region (its output, its timers) and collected garbage enough to
 * cost more CPU per MiB than the gateway it measured, so a client there measured itself as much as
 * the server. Started by s3.bench.ts with one JSON argument (WorkloadRequest); prints one JSON
 * line, the Figures.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { LeanS3Client, type S3Target } from './lean-s3-client';
import { cpuSecondsOf, pidsNamed } from './process-cpu';

const MiB = 1024 * 1024;
const LARGE_OBJECT_BYTES = 64 * MiB;
const SMALL_OBJECT_BYTES = 4 * 1024;
const SMALL_CONCURRENCY = 16;

export interface Figures {
  [metric: string]: number;
}

export interface WorkloadRequest {
  readonly target: S3Target;
  readonly large: { readonly c1Ops: number; readonly c4Ops: number } | null;
  /** How many 4 KiB PUTs and then GETs; 0 runs none. */
  readonly smallOps: number;
  /** The server's processes whose CPU is counted per request, by group (none for an outside server). */
  readonly processes?: readonly { readonly group: string; readonly pid: number }[];
}

/** Runs `request` in a child process (this file) and answers its figures. */
export function runWorkloadInChild(request: WorkloadRequest): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', __filename, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the workload against ${request.target.name} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Figures);
      } catch (error) {
        reject(error);
      }
    });
  });
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

/** CPU seconds so far of each process measured (by pid): the server's, nats-server, Postgres, this client. */
type CpuSample = Map<number, { readonly group: string; readonly seconds: number }>;
function sampleCpu(processes: WorkloadRequest['processes']): CpuSample | undefined {
  if (!processes) return undefined;
  const sample: CpuSample = new Map();
  const add = (group: string, pid: number) => sample.set(pid, { group, seconds: cpuSecondsOf(pid) });
  for (const { group, pid } of processes) add(group, pid);
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

/** A copy of `base` with a fresh random stamp at the start of every MiB. */
function distinctCopy(base: Buffer): Buffer {
  const copy = Buffer.from(base);
  for (let offset = 0; offset < copy.length; offset += MiB) randomBytes(16).copy(copy, offset);
  return copy;
}

export async function runWorkload(request: WorkloadRequest): Promise<Figures> {
  const { target, processes } = request;
  const s3 = new LeanS3Client(target);
  const bucket = `bench-${randomBytes(4).toString('hex')}`;
  const figures: Figures = {};
  try {
    expectOk('create bucket', await s3.request('PUT', bucket, ''));
    const large = request.large ? randomBytes(LARGE_OBJECT_BYTES) : Buffer.alloc(0);
    for (const concurrency of request.large ? ([1, 4] as const) : []) {
      const ops = concurrency === 1 ? request.large!.c1Ops : request.large!.c4Ops;
      // Every object differs in every MiB, so no store can skip writing a chunk it already holds.
      const bodies = Array.from({ length: ops }, () => distinctCopy(large));
      const mib = (ops * LARGE_OBJECT_BYTES) / MiB;
      let cpuBefore = sampleCpu(processes);
      let started = performance.now();
      await inParallel(ops, concurrency, async (i) => expectOk('PUT 64 MiB', await s3.request('PUT', bucket, `large-${concurrency}-${i}`, bodies[i])));
      figures[`PUT 64 MiB c${concurrency} MB/s`] = mib / ((performance.now() - started) / 1000);
      cpuPerOp(cpuBefore, sampleCpu(processes), mib, `PUT 64 MiB c${concurrency} per MiB`, figures);
      cpuBefore = sampleCpu(processes);
      started = performance.now();
      await inParallel(ops, concurrency, async (i) => {
        const res = await s3.request('GET', bucket, `large-${concurrency}-${i}`);
        expectOk('GET 64 MiB', res);
        if (res.bytes !== LARGE_OBJECT_BYTES) throw new Error(`GET returned ${res.bytes} bytes`);
      });
      figures[`GET 64 MiB c${concurrency} MB/s`] = mib / ((performance.now() - started) / 1000);
      cpuPerOp(cpuBefore, sampleCpu(processes), mib, `GET 64 MiB c${concurrency} per MiB`, figures);
    }
    const small = randomBytes(SMALL_OBJECT_BYTES);
    for (const method of request.smallOps > 0 ? (['PUT', 'GET'] as const) : []) {
      const latencies: number[] = [];
      const cpuBefore = sampleCpu(processes);
      const started = performance.now();
      await inParallel(request.smallOps, SMALL_CONCURRENCY, async (i) => {
        const t0 = performance.now();
        const res = await s3.request(method, bucket, `small/${i}`, method === 'PUT' ? small : undefined);
        latencies.push(performance.now() - t0);
        expectOk(`${method} 4 KiB`, res);
      });
      const seconds = (performance.now() - started) / 1000;
      cpuPerOp(cpuBefore, sampleCpu(processes), request.smallOps, `${method} 4 KiB`, figures);
      latencies.sort((a, b) => a - b);
      figures[`${method} 4 KiB c${SMALL_CONCURRENCY} ops/s`] = request.smallOps / seconds;
      figures[`${method} 4 KiB p50 ms`] = percentile(latencies, 50);
      figures[`${method} 4 KiB p99 ms`] = percentile(latencies, 99);
    }
  } finally {
    s3.close();
  }
  return figures;
}

if (require.main === module) {
  runWorkload(JSON.parse(process.argv[2]) as WorkloadRequest).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`, () => process.exit(0)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
