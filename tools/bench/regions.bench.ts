/**
 * `npm run bench:regions` — replication between two regions on this machine, as start:regions
 * lays them out (own NATS JetStream per region, links through the fault proxy):
 *
 * - replication lag p50/p99: seconds from a PUT's acknowledgement in region-1 to the object being
 *   readable (HEAD) in region-2, at a steady 4 KiB and a steady 1 MiB write rate;
 * - catch-up after a partition: region-2's link cut while region-1 takes a steady mixed load, then
 *   healed; events/s and MB/s until region-2 has everything (the lag API says nothing pending);
 * - anti-entropy has its own bench (`npm run bench:anti-entropy`).
 *
 * Figures are printed with their ratio to this machine's loopback reference (shared LIMITS: HTTP
 * upload with SHA-256 on the receiver, 700 MB/s). Bounded in count and time; --quick shortens it.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { METADATA_SERVICE, MetadataRpc, type ReplicationLagView } from '@cairn/protocol';
import { eventually } from '@cairn/testing';
import { benchCredentials } from './bench-credentials';
import { TestFederation, type FederatedRegion } from '../../apps/sync/src/testing/federation.e2e-helper';

const KiB = 1024;
const MiB = 1024 * KiB;
/** LIMITS.md: HTTP upload over loopback with SHA-256 on the receiver. */
const LOOPBACK_HASHED_UPLOAD_MB_S = 700;
const PORT_SHIFT = 37_000;

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'partition-seconds': { type: 'string' } } });
const quick = args.quick === true;
const partitionSeconds = Number(args['partition-seconds'] ?? (quick ? 15 : 60));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls region-2 until the key is readable; resolves with the time it was first seen. */
async function readableAt(region: FederatedRegion, bucket: string, key: string, deadlineMs: number): Promise<number> {
  for (;;) {
    const seen = await region.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
    if (seen) return performance.now();
    if (Date.now() > deadlineMs) throw new Error(`${key} never became readable in ${region.name}`);
    await sleep(10);
  }
}

/** Writes at a steady rate for a while; each write's lag to readable in the other region. */
async function steadyLag(from: FederatedRegion, to: FederatedRegion, bucket: string, sizeBytes: number, perSecond: number, count: number): Promise<number[]> {
  const body = randomBytes(sizeBytes);
  const lags: Promise<number>[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const key = `lag-${sizeBytes}-${i}`;
    await from.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const ackedAt = performance.now();
    lags.push(readableAt(to, bucket, key, Date.now() + 120_000).then((at) => (at - ackedAt) / 1000));
  }
  return (await Promise.all(lags)).sort((a, b) => a - b);
}

async function main(): Promise<void> {
  benchCredentials('bench-regions');
  const federation = new TestFederation(2, PORT_SHIFT);
  const [one, two] = federation.regions;
  const rows: [string, string, string, string][] = [];
  try {
    await federation.startNats();
    await Promise.all([one.start(), two.start()]);
    await one.s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await one.rpc.request(METADATA_SERVICE, MetadataRpc.setBucketReplication, { bucket: 'bench', replication: { mode: 'active-active' } });
    await eventually(() => two.s3.send(new HeadBucketCommand({ Bucket: 'bench' })).then(() => true, () => false), 60_000, 100);

    for (const [sizeBytes, perSecond, count] of [
      [4 * KiB, 20, quick ? 100 : 300],
      [MiB, 4, quick ? 20 : 60],
    ] as const) {
      const lags = await steadyLag(one, two, 'bench', sizeBytes, perSecond, count);
      const label = sizeBytes >= MiB ? '1 MiB' : '4 KiB';
      rows.push([`lag ${label} at ${perSecond}/s, p50 (n=${count})`, `${percentile(lags, 50).toFixed(3)} s`, '—', '—']);
      rows.push([`lag ${label} at ${perSecond}/s, p99`, `${percentile(lags, 99).toFixed(3)} s`, '—', '—']);
    }

    // Partition: region-2 cut off while region-1 takes a steady mixed load, then healed.
    await federation.proxy.cut('region-2');
    const small = randomBytes(4 * KiB);
    const large = randomBytes(MiB);
    let events = 0;
    let bytes = 0;
    const until = Date.now() + partitionSeconds * 1000;
    for (let i = 0; Date.now() < until; i++) {
      const body = i % 20 === 19 ? large : small;
      await one.s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `partition-${i}`, Body: body }));
      events += 1;
      bytes += body.byteLength;
      await sleep(40);
    }
    const lastKey = `partition-${events - 1}`;
    const healedAt = performance.now();
    await federation.proxy.heal('region-2');
    // The link comes back first (the hub redials, the stream source resumes), then the backlog applies.
    const firstSeenAt = await readableAt(two, 'bench', 'partition-0', Date.now() + 600_000);
    await readableAt(two, 'bench', lastKey, Date.now() + 600_000);
    await eventually(async () => {
      const lag = (await two.syncApi<ReplicationLagView[]>('/replication/lag')).find((v) => v.source === 'region-1');
      return lag && lag.connected && lag.pendingEvents === 0;
    }, 600_000, 100);
    const catchUpSeconds = (performance.now() - healedAt) / 1000;
    const mbPerSecond = bytes / 1e6 / catchUpSeconds;
    rows.push([`catch-up after a ${partitionSeconds} s partition (${events} writes, ${(bytes / MiB).toFixed(1)} MiB)`, `${catchUpSeconds.toFixed(1)} s`, '—', '—']);
    const reconnectSeconds = (firstSeenAt - healedAt) / 1000;
    const applySeconds = catchUpSeconds - reconnectSeconds;
    rows.push(['  of which the link coming back (heal to first change applied)', `${reconnectSeconds.toFixed(1)} s`, '—', '—']);
    rows.push(['catch-up rate over the whole catch-up, events', `${(events / catchUpSeconds).toFixed(0)} events/s`, '—', '—']);
    rows.push(['catch-up rate once the link is back, events', `${(events / applySeconds).toFixed(0)} events/s`, '—', '—']);
    rows.push(['catch-up rate over the whole catch-up, bytes', `${mbPerSecond.toFixed(1)} MB/s`, `${LOOPBACK_HASHED_UPLOAD_MB_S} MB/s loopback (hashed)`, `${(mbPerSecond / LOOPBACK_HASHED_UPLOAD_MB_S).toFixed(3)}x`]);
  } finally {
    await federation.stop();
  }
  const header: [string, string, string, string] = ['what', 'Cairn', 'reference', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nreplication between two regions on this machine${quick ? ' (quick)' : ''}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
