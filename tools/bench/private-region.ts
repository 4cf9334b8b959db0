import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { LeanS3Client, type S3Target } from './lean-s3-client';

/** The dev stack's region spawner (tools/dev-stack, plain JavaScript) as the benches use it. */
export interface RegionMember {
  readonly proc: { readonly name: string; readonly service: string };
  readonly url: string;
  readonly child: { readonly pid?: number };
}
export interface SpawnedRegion {
  readonly members: RegionMember[];
  waitLive(timeoutMs: number): Promise<boolean[]>;
  stop(timeoutMs: number): Promise<void>;
}
export const { spawnRegion } = require('../dev-stack/region') as { spawnRegion: (o: Record<string, unknown>) => SpawnedRegion };
export const { DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY, regionProcesses } = require('../dev-stack/stack') as {
  DEV_ROOT_ACCESS_KEY: string;
  DEV_ROOT_SECRET_KEY: string;
  regionProcesses: (o: { portOffset: number; dataRoot: string }) => { name: string; env: Record<string, string> }[];
};
export const { ensureLocalServices } = require('../services/local-services') as { ensureLocalServices: () => Promise<unknown> };

/** How long a private region gets to come up and take its first write. */
export const REGION_READY_MS = 90_000;
const PROBE_OBJECT_BYTES = 1024 * 1024;
const PROBE_RETRY_MS = 1_000;

/**
 * Waits until every process is live and the region stores an object: metadata has the root key
 * and the nodes have joined the ring. The probe is larger than any inline threshold, so it proves
 * the storage nodes take chunks too.
 */
export async function waitUntilWritable(region: SpawnedRegion, target: S3Target): Promise<void> {
  const live = await region.waitLive(REGION_READY_MS);
  if (live.some((up) => !up)) throw new Error('the private region did not come up');
  const probe = new LeanS3Client(target);
  const deadline = Date.now() + REGION_READY_MS;
  const bucket = `probe-${randomBytes(4).toString('hex')}`;
  const failed = { status: 0, body: 'no answer', bytes: 0 };
  const retry = () => new Promise((resolve) => setTimeout(resolve, PROBE_RETRY_MS));
  try {
    for (let made = failed; made.status >= 300 || made.status === 0; ) {
      made = await probe.request('PUT', bucket, '').catch(() => failed);
      if (made.status === 409) break;
      if (Date.now() > deadline) throw new Error(`the private region does not create buckets: ${made.status} ${made.body.slice(0, 200)}`);
      if (made.status >= 300 || made.status === 0) await retry();
    }
    const probeBody = randomBytes(PROBE_OBJECT_BYTES);
    for (let put = failed; put.status >= 300 || put.status === 0; ) {
      put = await probe.request('PUT', bucket, 'probe', probeBody).catch(() => failed);
      if (Date.now() > deadline) throw new Error(`the private region does not take writes: ${put.status} ${put.body.slice(0, 200)}`);
      if (put.status >= 300 || put.status === 0) await retry();
    }
  } finally {
    probe.close();
  }
}

/**
 * Refuses to go on when a port of the region at `portOffset` is taken. A process of the region
 * that cannot listen exits, but the bench's readiness probe and workload would then be answered
 * by whatever holds the port (another region left running at the same offset), and measure it.
 */
export async function assertRegionPortsFree(portOffset: number): Promise<void> {
  for (const proc of regionProcesses({ portOffset, dataRoot: '' })) {
    const port = Number(proc.env.CAIRN_HTTP_PORT);
    const taken = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(true));
      probe.listen(port, () => probe.close(() => resolve(false)));
    });
    if (taken) throw new Error(`port ${port} (${proc.name} at port offset ${portOffset}) is taken: another region or server is running there; stop it or pass --port-offset`);
  }
}
