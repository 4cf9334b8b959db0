/**
 * npm run bench:backup [-- --mib=256 --objects=2000 --small-kib=4 --skip=drill,pitr] — backups and restores of a real region
 * (metadata, a lock-manager, three storage nodes, access and the scheduler as separate processes
 * on this disk; docs/backups.md), each rate beside this disk's own rates measured in the same run:
 * - a full backup of the region to a directory target: MB/s of chunk bytes written to the target,
 *   against writing a file of the same size with one fsync (the disk limit);
 * - an incremental backup after 1% of the logical bytes changed: its time and bytes copied;
 * - `cairn backup drill`: the latest backup restored into an empty scratch region and compared
 *   with the source as of the cut (counts, etags, 50 objects' bytes): RTO (queue to projection
 *   caught up), RPO, and MB/s of chunk bytes written back (each at RF=3, so the disk takes three
 *   times that) against the disk limit;
 * - a point-in-time restore from the backup: META purged up to the incremental backup's cut, the
 *   bucket restored as of that cut into another bucket from the backup's events: objects per
 *   second, and chunks copied back (none while the nodes still hold them).
 * The defaults are scaled down to run in a couple of minutes on a shared 2-core machine (256 MiB in
 * 1 MiB objects for the rates, 2,000 objects of 4 KiB for the per-object RTO). The full-size
 * figures take two runs: `--mib 10240 --objects 0 --skip drill,pitr` (1% incremental of 10 GiB) and
 * `--mib 0 --objects 100000 --small-kib 10` (restore RTO for 1 GiB in 100,000 objects).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import { eventually, TEST_NATS_URL } from '@cairn/testing';
import type { BackupManifest } from '../../apps/scheduler/src/backup/backup-format';
import type { BackupReport } from '../../apps/scheduler/src/backup/backup.runner';
import type { RestoreReport } from '../../apps/scheduler/src/point-in-time/restore.queue';
import { runCli } from '../../apps/cli/src/cli';
import type { DrillReport } from '../../apps/cli/src/domain/backup-views';
import { TestRegion } from '../../apps/scheduler/src/testing/region.e2e-helper';
import { benchCredentials } from './bench-credentials';
const { ensureLocalServices } = require('../services/local-services') as { ensureLocalServices: () => Promise<unknown> };

const KiB = 1024;
const MiB = 1024 * KiB;
const MB = 1e6;
const DISK_BLOCK_BYTES = 4 * MiB;
const PUT_IN_FLIGHT = 4;
const PHASE_TIMEOUT_MS = 15 * 60_000;
/** Far above the disk: the figures are the machine's, not a throttle's. */
const UNTHROTTLED_BYTES_PER_SECOND = 64 * 1024 * MiB;

const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    objects: { type: 'string', default: '2000' },
    'small-kib': { type: 'string', default: '4' },
    skip: { type: 'string', default: '' },
  },
});
const LOGICAL_BYTES = Number(args.mib) * MiB;
const SMALL_OBJECTS = Number(args.objects);
const SMALL_BYTES = Math.round(Number(args['small-kib']) * KiB);
const SKIPPED = new Set(args.skip.split(',').map((s) => s.trim()).filter(Boolean));
for (const phase of SKIPPED) if (phase !== 'drill' && phase !== 'pitr') throw new Error(`--skip takes drill and/or pitr, not "${phase}"`);
/** Enough bytes for a steady disk rate, few enough not to fill the disk beside a 10 GiB region. */
const DISK_PROBE_BYTES = Math.min(Math.max(LOGICAL_BYTES + SMALL_OBJECTS * SMALL_BYTES, 256 * MiB), 1024 * MiB);

/** How often a long phase prints how far it got and what the services hold in memory. */
const PROGRESS_EVERY_MS = 60_000;

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; NaN once it is gone. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Resident and peak resident MiB of a region's service processes, read from /proc. */
function memoryOf(region: TestRegion, instances: readonly string[]): string {
  return instances
    .map((instance) => {
      const pid = region.pidOf(instance);
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
        return `${instance} rss ${(kib('VmRSS') / KiB).toFixed(0)} MiB (peak ${(kib('VmHWM') / KiB).toFixed(0)})`;
      } catch {
        return `${instance} gone`;
      }
    })
    .join(', ');
}

const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);

async function diskWriteMBps(dir: string, bytes: number): Promise<number> {
  const block = randomBytes(DISK_BLOCK_BYTES);
  const file = path.join(dir, `disk-write-${randomBytes(4).toString('hex')}`);
  const started = performance.now();
  const fh = await fsp.open(file, 'w');
  for (let written = 0; written < bytes; written += DISK_BLOCK_BYTES) await fh.write(block, 0, DISK_BLOCK_BYTES);
  await fh.sync();
  await fh.close();
  const rate = mbps(bytes, performance.now() - started);
  await fsp.rm(file);
  return rate;
}

/** `work` over 0..count-1, `limit` at a time, printing progress every tenth of the way on long runs. */
async function inParallel(count: number, limit: number, label: string, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const step = count >= 5_000 ? Math.ceil(count / 10) : Number.POSITIVE_INFINITY;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      await work(next++);
      if (++done % step === 0) process.stdout.write(`  ${label}: ${done} of ${count} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    }
  }));
}

async function runBackup(region: TestRegion, target: string): Promise<{ report: BackupReport; manifest: BackupManifest; ms: number }> {
  const before = await region.admin<{ recent: BackupReport[] }>('GET', '/admin/backup/runs');
  const seen = new Set(before.body.recent.map((r) => r.id));
  const started = performance.now();
  await region.admin('POST', '/admin/backup/run', { target });
  // A failed attempt is retried by its queue under the same id, so only 'done' ends the wait; failures are shown as they come.
  const failures = new Set<string>();
  const report = await eventually(async () => {
    const runs = await region.admin<{ recent: BackupReport[] }>('GET', '/admin/backup/runs');
    const r = runs.body.recent.find((x) => x.target === target && !seen.has(x.id));
    if (r?.state === 'failed' && r.error && !failures.has(r.error)) {
      failures.add(r.error);
      process.stderr.write(`  backup ${r.id} attempt failed (the queue retries it): ${r.error}\n`);
    }
    return r?.state === 'done' ? r : undefined;
  }, PHASE_TIMEOUT_MS, 100);
  const ms = performance.now() - started;
  const manifest = (await region.admin<{ backups: BackupManifest[] }>('GET', `/admin/backup/list?target=${target}`)).body.backups.find((m) => m.id === report.id)!;
  return { report, manifest, ms };
}

async function main(): Promise<void> {
  await ensureLocalServices();
  // The development cluster secret, in this process's environment so the services it starts share it.
  benchCredentials('bench/backup');
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-bench-backup-'));
  const source = new TestRegion({ CAIRN_GC_GRACE_MS: String(3_600_000) });
  const restored = new TestRegion({ CAIRN_GC_GRACE_MS: String(3_600_000) });
  const lines: string[] = [];
  const print = (line: string) => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  try {
    await source.start(3);
    await source.startScheduler('scheduler-1');
    await source.s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const objects = Math.floor(LOGICAL_BYTES / MiB);
    print(`region up; writing ${objects} objects of 1 MiB (${args.mib} MiB) and ${SMALL_OBJECTS} objects of ${args['small-kib']} KiB`);
    const writeStarted = performance.now();
    await inParallel(objects, PUT_IN_FLIGHT, 'big objects written', (i) => source.put('bench', `big/${i}`, randomBytes(MiB)));
    await inParallel(SMALL_OBJECTS, PUT_IN_FLIGHT * 2, 'small objects written', async (i) => {
      await source.s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `small/${i}`, Body: randomBytes(SMALL_BYTES) }));
    });
    print(`  written in ${((performance.now() - writeStarted) / 1000).toFixed(0)} s`);
    const target = path.join(scratch, 'target');
    await source.admin('POST', '/admin/backup/targets', { name: 'bench', kind: 'dir', path: target, bytesPerSecond: UNTHROTTLED_BYTES_PER_SECOND });

    const diskBefore = await diskWriteMBps(scratch, DISK_PROBE_BYTES);
    const full = await runBackup(source, 'bench');
    const diskAfter = await diskWriteMBps(scratch, DISK_PROBE_BYTES);
    const disk = (diskBefore + diskAfter) / 2;
    const fullRate = mbps(full.manifest.chunks.copiedBytes, full.ms);
    print(
      `full backup: ${full.manifest.newEvents} events, ${full.manifest.chunks.copied} chunks, ${(full.manifest.chunks.copiedBytes / MiB).toFixed(0)} MiB of chunks in ${(full.ms / 1000).toFixed(1)} s = ${fullRate.toFixed(1)} MB/s; ` +
        `${(full.manifest.bytesWritten / MiB).toFixed(0)} MiB written in all (events, inline bodies, chunks) = ${mbps(full.manifest.bytesWritten, full.ms).toFixed(1)} MB/s`,
    );
    print(`  disk write limit (one file, one fsync) ${diskBefore.toFixed(0)} / ${diskAfter.toFixed(0)} MB/s before/after: backup at ${((fullRate / disk) * 100).toFixed(0)}% of it`);

    // 1% of the logical bytes rewritten: of the big objects when there are any, else of the small ones.
    const [changedPrefix, population, changedSize] = objects > 0 ? ['big', objects, MiB] : ['small', SMALL_OBJECTS, SMALL_BYTES];
    const changed = Math.max(1, Math.round(population / 100));
    await inParallel(changed, PUT_IN_FLIGHT, 'objects changed', (i) => source.put('bench', `${changedPrefix}/${i}`, randomBytes(changedSize)));
    const incremental = await runBackup(source, 'bench');
    print(
      `incremental backup after ${changed} of ${population} ${changedPrefix} objects (1%) changed: ${(incremental.ms / 1000).toFixed(2)} s, ${incremental.manifest.newEvents} events, ` +
        `${(incremental.manifest.bytesWritten / MiB).toFixed(1)} MiB written = ${((incremental.manifest.bytesWritten / full.manifest.bytesWritten) * 100).toFixed(1)}% of the full backup's (chunks ${(incremental.manifest.chunks.copiedBytes / MiB).toFixed(1)} MiB)`,
    );

    if (!SKIPPED.has('drill')) {
      // The drill: the latest backup restored into an empty scratch region by `cairn backup drill`,
      // compared with the source as of the cut; its RTO is the restore's, queue to projection caught up.
      await restored.start(3);
      await restored.startScheduler('scheduler-1');
      const profile = path.join(scratch, 'profile.json');
      const endpointsOf = (region: TestRegion) => ({ access: region.accessUrl, metadata: region.metadataUrl, scheduler: region.scheduler().url });
      await fsp.writeFile(profile, JSON.stringify({ regions: { source: { endpoints: endpointsOf(source), operatorToken: source.operatorToken }, scratch: { endpoints: endpointsOf(restored), operatorToken: restored.operatorToken } } }));
      let out = '';
      let err = '';
      const code = await runCli(['--profile', profile, '--endpoint', 'source', '--json', 'backup', 'drill', '--target', 'bench', '--into', 'scratch', '--sample', '50'], {
        env: {},
        stdout: { write: (t: string) => ((out += t), true) } as unknown as NodeJS.WritableStream,
        stderr: { write: (t: string) => ((err += t), true) } as unknown as NodeJS.WritableStream,
      });
      if (code !== 0) throw new Error(`cairn backup drill exited ${code}: ${err}${out}`);
      const drill = JSON.parse(out) as DrillReport;
      const restoreRate = drill.restoredChunkBytes / MB / drill.rtoSeconds;
      print(
        `drill (cairn backup drill into an empty region): ${drill.ok ? 'PASSED' : 'FAILED'}, RTO ${drill.rtoSeconds.toFixed(1)} s for ${drill.objects} objects ` +
          `(${drill.restoredEvents} events, ${(drill.restoredChunkBytes / MiB).toFixed(0)} MiB of chunks), RPO ${drill.rpoSeconds.toFixed(0)} s; ${drill.etagMismatchCount} etag mismatches, ${drill.sampled} objects compared byte for byte, ${drill.byteMismatches.length} differ`,
      );
      print(
        `  restore rate ${restoreRate.toFixed(1)} MB/s of chunks, each written 3 times (RF=3): ${(((restoreRate * 3) / disk) * 100).toFixed(0)}% of the disk write limit; ` +
          `backup/restore rate ratio ${(fullRate / restoreRate).toFixed(2)}`,
      );
    }

    if (!SKIPPED.has('pitr')) {
      // Point-in-time restore from the backup: the live log trimmed up to the incremental backup's cut,
      // so only the backup reaches that moment.
      const nats = new NatsConnectionManager({ natsUrl: TEST_NATS_URL, namespace: source.namespace, region: 'region-1', serviceName: 'bench', instance: 'bench-trim' });
      try {
        await (await nats.jetstreamManager()).streams.purge(subjectsFor(source.namespace).streamName('META'), { seq: incremental.manifest.cutSequence + 1 });
      } finally {
        await nats.close();
      }
      await source.s3.send(new CreateBucketCommand({ Bucket: 'bench-then' }));
      // Peak RSS from here on is the restore's, not the backups' before it: the scheduler that ran them is replaced.
      await source.scheduler('scheduler-1').stop();
      await source.startScheduler('scheduler-1');
      const restoreServices = ['metadata-1', 'scheduler-1', 'access-1'];
      for (const instance of restoreServices) await fsp.writeFile(`/proc/${source.pidOf(instance)}/clear_refs`, '5').catch(() => undefined);
      print(`  before the restore: ${memoryOf(source, restoreServices)}`);
      const cpuBefore = restoreServices.map((instance) => cpuSecondsOf(source.pidOf(instance)));
      const pitrStarted = performance.now();
      const queued = await source.admin<RestoreReport>('POST', '/admin/restore', { bucket: 'bench', at: incremental.manifest.cutAt, to: 'bench-then' });
      if (queued.status !== 202) throw new Error(`restore refused: ${JSON.stringify(queued.body)}`);
      let nextProgressAt = performance.now() + PROGRESS_EVERY_MS;
      const pitr = await eventually(async () => {
        const r = (await source.admin<RestoreReport>('GET', `/admin/restore/${queued.body.id}`)).body;
        if (r.state === 'failed') throw new Error(`restore failed: ${r.error}`);
        if (performance.now() >= nextProgressAt) {
          nextProgressAt += PROGRESS_EVERY_MS;
          print(`  restore ${r.state} after ${((performance.now() - pitrStarted) / 1000).toFixed(0)} s: ${r.puts} puts, ${r.failures} failures; ${memoryOf(source, ['metadata-1', 'scheduler-1', 'access-1'])}`);
        }
        return r.state === 'done' ? r : undefined;
      }, PHASE_TIMEOUT_MS, 100);
      const pitrSeconds = (performance.now() - pitrStarted) / 1000;
      print(
        `point-in-time restore from the backup (META purged up to its cut; source ${pitr.source.kind}): ${pitr.puts} objects (${(pitr.bytesRestored / MiB).toFixed(0)} MiB) in ${pitrSeconds.toFixed(1)} s = ` +
          `${(pitr.puts / pitrSeconds).toFixed(0)} objects/s, ${pitr.chunksReused} chunks reused, ${pitr.chunksCopied} copied back, ${pitr.failures} failures`,
      );
      print(`  after the restore (peak since it was queued): ${memoryOf(source, restoreServices)}`);
      const cpu = restoreServices.map((instance, i) => cpuSecondsOf(source.pidOf(instance)) - cpuBefore[i]);
      print(`  restore CPU: ${restoreServices.map((instance, i) => `${instance} ${cpu[i].toFixed(1)} s (${((cpu[i] / Math.max(1, pitr.progress.totalItems)) * 1e3).toFixed(2)} ms a key)`).join(', ')}`);
    }
    print(`machine: ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)} at the end`);
  } finally {
    await Promise.all([source.stop(), restored.stop()]);
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
