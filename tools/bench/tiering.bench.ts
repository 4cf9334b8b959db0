/**
 * npm run bench:tiering [-- --quick] — storage classes side by side in one run (docs/storage-classes.md):
 * - the erasure code alone, one core: encode and decode (m shards lost) MB/s of data for 2+1 and
 *   4+2 on 8 MiB chunks, beside SHA-256 over the same bytes (the hashing limit every write pays);
 * - a real region (metadata, a lock-manager, three storage nodes and access as processes on this
 *   disk; 1 MiB chunks, so 2+1 stripes): PUT and GET MB/s of the same objects per class, STANDARD
 *   first and again last (the machine is shared and noisy: both are printed), beside a sequential
 *   fsync'd write of the disk in the same run;
 * - disk bytes per logical byte per class: what the nodes' data directories grew by, over what was
 *   written.
 * The region lives in its own namespace and temporary directory; both are removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type StorageClass } from '@aws-sdk/client-s3';
import { ReedSolomon, splitIntoDataShards } from '@cairn/erasure';
import { generatedBody, sha256OfStream } from '../../apps/scheduler/src/testing/generated-body.e2e-helper';
import { TestRegion } from '../../apps/scheduler/src/testing/region.e2e-helper';
import { benchCredentials } from './bench-credentials';
const { ensureLocalServices } = require('../services/local-services') as { ensureLocalServices: () => Promise<unknown> };

const MiB = 1024 * 1024;
const MB = 1e6;
const CODE_CHUNK_BYTES = 8 * MiB;
const CLASSES: readonly StorageClass[] = ['STANDARD', 'STANDARD_IA', 'GLACIER_IR', 'REDUCED_REDUNDANCY', 'STANDARD'];
const OBJECT_BYTES = 32 * MiB;
const OBJECTS = { full: 8, quick: 2 };
const IN_FLIGHT = 2;
const DISK_REFERENCE_BYTES = 256 * MiB;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick === true;

function mbps(bytes: number, ms: number): string {
  return ((bytes / MB) / (ms / 1000)).toFixed(1);
}

function codeFigures(): void {
  const data = randomBytes(CODE_CHUNK_BYTES);
  const rounds = quick ? 4 : 12;
  let t = performance.now();
  for (let i = 0; i < rounds; i++) createHash('sha256').update(data).digest();
  const shaMs = performance.now() - t;
  console.log(`SHA-256, one core: ${mbps(rounds * CODE_CHUNK_BYTES, shaMs)} MB/s`);
  for (const [k, m] of [
    [2, 1],
    [4, 2],
  ] as const) {
    const code = new ReedSolomon(k, m);
    const shards = splitIntoDataShards(data, k);
    code.encode(shards);
    t = performance.now();
    let parity: Uint8Array[] = [];
    for (let i = 0; i < rounds; i++) parity = code.encode(shards);
    const encodeMs = performance.now() - t;
    const lost: (Uint8Array | null)[] = [...shards, ...parity];
    for (let i = 0; i < m; i++) lost[i] = null;
    code.reconstructData(lost);
    t = performance.now();
    for (let i = 0; i < rounds; i++) code.reconstructData(lost);
    const decodeMs = performance.now() - t;
    console.log(`Reed-Solomon ${k}+${m}, one core, 8 MiB chunks: encode ${mbps(rounds * CODE_CHUNK_BYTES, encodeMs)} MB/s, decode with ${m} data shard(s) lost ${mbps(rounds * CODE_CHUNK_BYTES, decodeMs)} MB/s of data`);
  }
}

async function diskWriteMbps(dir: string): Promise<string> {
  const file = path.join(dir, 'disk-reference');
  const t = performance.now();
  const r = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4M', `count=${DISK_REFERENCE_BYTES / (4 * MiB)}`, 'conv=fsync'], { stdio: 'ignore' });
  const ms = performance.now() - t;
  await fsp.rm(file, { force: true });
  return r.status === 0 ? mbps(DISK_REFERENCE_BYTES, ms) : 'n/a';
}

function bytesUnder(dirs: readonly string[]): number {
  let total = 0;
  for (const dir of dirs) {
    const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
    total += Number(r.stdout.split(/\s/)[0] ?? 0);
  }
  return total;
}

async function pool<T>(items: readonly T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  }));
}

async function main(): Promise<void> {
  codeFigures();
  // The cluster secret the region's services and this process share.
  benchCredentials('bench/tiering');
  await ensureLocalServices();
  const region = new TestRegion({});
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-tiering-'));
  try {
    await region.start(3);
    await region.s3.send(new CreateBucketCommand({ Bucket: 'tiering' }));
    const nodeDirs = [...region.nodes.values()].map((n) => n.dataDir);
    const count = quick ? OBJECTS.quick : OBJECTS.full;
    const logical = count * OBJECT_BYTES;
    console.log(`disk, sequential fsync'd write: ${await diskWriteMbps(scratch)} MB/s`);
    const rows: string[] = [];
    for (const [round, storageClass] of CLASSES.entries()) {
      const keys = Array.from({ length: count }, (_, i) => `${round}-${storageClass}-${i}`);
      // Every object's bytes its own (chunks are content-addressed: equal bytes would be stored once).
      const seedOf = (key: string) => 1 + round * 1_000 + keys.indexOf(key);
      const before = bytesUnder(nodeDirs);
      let t = performance.now();
      await pool(keys, IN_FLIGHT, async (key) => {
        await region.s3.send(new PutObjectCommand({ Bucket: 'tiering', Key: key, Body: generatedBody(seedOf(key), OBJECT_BYTES), ContentLength: OBJECT_BYTES, StorageClass: storageClass }));
      });
      const putMs = performance.now() - t;
      const grown = bytesUnder(nodeDirs) - before;
      t = performance.now();
      await pool(keys, IN_FLIGHT, async (key) => {
        const res = await region.s3.send(new GetObjectCommand({ Bucket: 'tiering', Key: key }));
        const { sizeBytes } = await sha256OfStream(res.Body as AsyncIterable<Uint8Array>);
        if (sizeBytes !== OBJECT_BYTES) throw new Error(`${key}: got ${sizeBytes} bytes`);
      });
      const getMs = performance.now() - t;
      rows.push(`${storageClass.padEnd(19)} PUT ${mbps(logical, putMs).padStart(7)} MB/s   GET ${mbps(logical, getMs).padStart(7)} MB/s   disk bytes per logical byte ${(grown / logical).toFixed(2)}`);
      console.log(rows.at(-1));
    }
    console.log(`\n${count} objects of ${OBJECT_BYTES / MiB} MiB per class, ${IN_FLIGHT} in flight, 1 MiB chunks, 3 nodes (erasure-coded classes: 2+1)`);
    console.log(`disk, sequential fsync'd write (after): ${await diskWriteMbps(scratch)} MB/s`);
  } finally {
    await region.stop();
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
