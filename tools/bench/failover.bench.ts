/**
 * `npm run bench:failover` — disaster recovery between three regions on this machine, as
 * start:regions lays them out (own NATS JetStream per region, links through the fault proxy):
 *
 * - drills: `cairn drill run` against the bucket's home, repeatedly (10, --quick 3): RTO, failover
 *   time and RPO, min / median / max;
 * - planned switchover under a steady writer: how long writes paused, min / median / max;
 * - routing: a 4 KiB PUT to an active-passive bucket through its home's endpoint versus through
 *   another region's (forwarded to the home over the federation link), p50 / p99 and their ratio.
 *
 * Bounded in count and time. The failover window is the default: 3 checks 1 s apart.
 */
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { METADATA_SERVICE, MetadataRpc, type ControlGroupView, type DrillReport, type SwitchoverReply } from '@cairn/protocol';
import { eventually, signedFetch, testOperatorToken } from '@cairn/testing';
import { benchCredentials } from './bench-credentials';
import { drillSummary } from '@cairn/drill';
import { runCairn as cairn, TestFederation, type FederatedRegion } from '../../apps/sync/src/testing/federation.e2e-helper';

/** Not a multiple of 100 (never on another federation's ports) and clear of npm start's. */
const PORT_SHIFT = 4_050;
const BUCKET = 'bench-failover';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, drills: { type: 'string' } } });
const quick = args.quick === true;
const drillCount = Number(args.drills ?? (quick ? 3 : 10));
const switchovers = quick ? 3 : 5;
const routedWrites = quick ? 100 : 300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stats(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0] ?? Number.NaN, median: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function homeOf(region: FederatedRegion): Promise<string | undefined> {
  const view = await region.syncApi<ControlGroupView>('/control').catch(() => undefined);
  return view?.buckets.find((b) => b.bucket === BUCKET)?.home;
}

async function putLatencies(region: FederatedRegion, prefix: string, count: number): Promise<number[]> {
  const body = Buffer.alloc(4096, 7);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await region.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${i}`, Body: body }));
    out.push(performance.now() - start);
  }
  return out;
}

async function main(): Promise<void> {
  // The services this bench starts and the operator tokens it mints share the development cluster secret.
  benchCredentials('bench-failover');
  const federation = new TestFederation(3, PORT_SHIFT);
  const [one] = federation.regions;
  const rows: string[][] = [];
  try {
    console.log(`starting three regions (port shift ${PORT_SHIFT})…`);
    await federation.startNats();
    await Promise.all(federation.regions.map((r) => r.start()));
    await one.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await one.rpc.request(METADATA_SERVICE, MetadataRpc.setBucketReplication, { bucket: BUCKET, replication: { mode: 'active-passive', homeRegion: 'region-1' } });
    for (const r of federation.regions) await eventually(async () => (await homeOf(r)) === 'region-1', 120_000, 250);
    await eventually(() => federation.regions[1].s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'warm-up', Body: 'x' })).then(() => true, () => false), 120_000, 250);

    // Routing: through the home versus through another region (forwarded).
    const local = await putLatencies(one, 'local', routedWrites);
    const forwarded = await putLatencies(federation.regions[1], 'forwarded', routedWrites);
    const ratio = percentile(forwarded, 50) / percentile(local, 50);
    rows.push(['4 KiB PUT through the home, p50 / p99', `${percentile(local, 50).toFixed(1)} / ${percentile(local, 99).toFixed(1)} ms`, '']);
    rows.push(['4 KiB PUT through another region (forwarded), p50 / p99', `${percentile(forwarded, 50).toFixed(1)} / ${percentile(forwarded, 99).toFixed(1)} ms`, `${ratio.toFixed(2)}x the local p50`]);

    // Planned switchovers under a steady writer.
    const pauses: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 100_000; i++) {
        await federation.regions[2].s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `steady/${i}`, Body: 'x' })).catch(() => undefined);
        await sleep(20);
      }
    })();
    for (let i = 0; i < switchovers; i++) {
      const home = (await homeOf(one))!;
      const to = federation.regions[(federation.regions.findIndex((r) => r.name === home) + 1) % federation.regions.length].name;
      const sync = one.services.get('sync')!;
      const res = await signedFetch(`${sync.url}/control/switchover`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testOperatorToken('admin')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ bucket: BUCKET, to }),
      });
      const reply = (await res.json()) as SwitchoverReply;
      if (res.status !== 200) throw new Error(`switchover to ${to}: ${res.status} ${JSON.stringify(reply)}`);
      pauses.push(reply.pausedMs / 1000);
      await sleep(1_000);
    }
    writing = false;
    await writer;
    const pause = stats(pauses);
    rows.push([`planned switchover: writes paused (${switchovers}), min / median / max`, `${pause.min.toFixed(2)} / ${pause.median.toFixed(2)} / ${pause.max.toFixed(2)} s`, '']);

    // Drills.
    const profile = federation.writeProfile();
    const reports: DrillReport[] = [];
    for (let i = 0; i < drillCount; i++) {
      const home = (await homeOf(one)) ?? 'region-1';
      const run = await cairn(['--profile', profile, '--json', 'drill', 'run', '--region', home, '--bucket', BUCKET, '--write-seconds', '2']);
      let report: DrillReport;
      try {
        report = JSON.parse(run.stdout) as DrillReport;
      } catch {
        throw new Error(`drill ${i + 1} printed no report (exit ${run.code}): ${run.stderr.slice(-2_000)}`);
      }
      reports.push(report);
      console.log(`drill ${i + 1}/${drillCount}: ${report.region} out → ${report.newHome ?? 'none'}; failover ${report.failoverSeconds} s, RTO ${report.rtoSeconds} s, RPO ${report.rpoObjects} obj / ${report.rpoSeconds} s, ${report.ok ? 'PASS' : `FAIL ${report.problems.join('; ')}`}`);
    }
    const typical = [...reports].sort((a, b) => (a.rtoSeconds ?? Infinity) - (b.rtoSeconds ?? Infinity))[Math.floor((reports.length - 1) / 2)];
    if (typical) console.log(`\nthe median drill as \`cairn drill run\` prints it:\n\n${drillSummary(typical)}\n`);
    const rto = stats(reports.map((r) => r.rtoSeconds ?? Number.POSITIVE_INFINITY));
    const failover = stats(reports.map((r) => r.failoverSeconds ?? Number.POSITIVE_INFINITY));
    const rpoSeconds = stats(reports.map((r) => r.rpoSeconds));
    const rpoObjects = stats(reports.map((r) => r.rpoObjects));
    const inLease = stats(reports.map((r) => r.acknowledgedByOldHomeAfterFailure));
    rows.push([`drills (${drillCount}): RTO, min / median / max`, `${rto.min.toFixed(1)} / ${rto.median.toFixed(1)} / ${rto.max.toFixed(1)} s`, 'target < 30 s']);
    rows.push([`drills: failover (group names the new home), min / median / max`, `${failover.min.toFixed(1)} / ${failover.median.toFixed(1)} / ${failover.max.toFixed(1)} s`, '3 checks × 1 s + election']);
    rows.push([`drills: RPO, objects min / median / max`, `${rpoObjects.min} / ${rpoObjects.median} / ${rpoObjects.max}`, '']);
    rows.push([`drills: RPO, seconds min / median / max`, `${rpoSeconds.min.toFixed(1)} / ${rpoSeconds.median.toFixed(1)} / ${rpoSeconds.max.toFixed(1)} s`, 'target < 1 s']);
    rows.push([`drills: taken by the old home within its lease (back after the heal)`, `${inLease.min} / ${inLease.median} / ${inLease.max}`, '']);
    rows.push([`drills: split brain / acknowledged writes lost`, `${reports.filter((r) => r.splitBrain).length} / ${reports.reduce((n, r) => n + r.lostAcknowledged, 0)}`, 'must be 0 / 0']);
  } finally {
    await federation.stop();
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log('\nfailover between three regions (one machine, links through the fault proxy)');
  for (const [what, value, note] of rows) console.log(`${what.padEnd(width)}  ${value.padEnd(26)}  ${note}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
