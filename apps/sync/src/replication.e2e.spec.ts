import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { METADATA_SERVICE, MetadataRpc, type ListConflictsReply, type ReplicationLagView } from '@cairn/protocol';
import { eventually } from '@cairn/testing';
import { TestFederation, versionsOf, type FederatedRegion } from './testing/federation.e2e-helper';

/**
 * Clear of a running start:regions, the NATS-only regions test (10_000) and anti-entropy's e2e
 * (15_000), and below the kernel's ephemeral ports (32768+), where an outgoing connection's local
 * port can hold a listener's port for a minute (TIME_WAIT).
 */
const PORT_SHIFT = 20_000;
const CONVERGE_MS = 90_000;
/** Above the gateway's inline limit and over several 256 KiB chunks: bytes that must be pulled. */
const LARGE_BYTES = 700 * 1024;

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

async function streamCounts(region: FederatedRegion): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${region.layout.nats.monitorPort}/jsz?streams=true&consumers=true`).catch(() => null);
  if (!res) return null;
  const body = (await res.json()) as { account_details?: { stream_detail?: { name: string; state: { messages: number; first_seq: number; last_seq: number }; sources?: unknown; consumer_detail?: { name: string; num_pending: number; num_ack_pending: number; ack_floor: unknown }[] }[] }[] };
  return (body.account_details ?? []).flatMap((a) => (a.stream_detail ?? []).filter((st) => st.name.includes('META')).map((st) => ({ name: st.name, state: st.state, consumers: st.consumer_detail?.map((c) => [c.name, c.num_pending, c.num_ack_pending, c.ack_floor]) })));
}

/** eventually(), and on a timeout what each region's sync says about lag and back-fills. */
async function converge<T>(what: string, regions: readonly FederatedRegion[], probe: () => Promise<T | undefined | false>): Promise<T> {
  try {
    return await eventually(probe, CONVERGE_MS, 250);
  } catch (error) {
    const states = await Promise.all(
      regions.map(async (r) => `${r.name}: streams ${JSON.stringify(await streamCounts(r))} lag ${JSON.stringify(await r.syncApi('/replication/lag').catch(String))} backfills ${JSON.stringify(await r.syncApi('/replication/backfills').catch(String))}`),
    );
    throw new Error(`${what}: ${String(error)}\n${states.join('\n')}`);
  }
}

async function bodyOf(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function setReplication(region: FederatedRegion, bucket: string, mode: 'active-active' | 'active-passive', homeRegion?: string): Promise<void> {
  await region.rpc.request(METADATA_SERVICE, MetadataRpc.setBucketReplication, { bucket, replication: mode === 'active-passive' ? { mode, homeRegion } : { mode } });
}

async function conflictsOf(region: FederatedRegion, bucket: string): Promise<ListConflictsReply['conflicts']> {
  return (await region.rpc.request<ListConflictsReply>(METADATA_SERVICE, MetadataRpc.listConflicts, { bucket })).conflicts;
}

/**
 * Regions that federate (docs/replication.md), as real processes: two — later three — whole
 * regions, each with its own NATS JetStream, Postgres database, storage and sync, joined through
 * the fault proxy. Writes replicate with their bytes; a partition with writes and deletes of the
 * same keys on both sides converges to the same versions everywhere with nothing acknowledged
 * lost; sync killed with -9 mid-stream leaves no gap and no duplicate; a region joining later
 * back-fills.
 */
describe('replication between regions', () => {
  const federation = new TestFederation(3, PORT_SHIFT);
  const [one, two, three] = federation.regions;

  beforeAll(async () => {
    await federation.startNats();
    await Promise.all([one.start(), two.start()]);
    // As an operator would: both links up before the first write (region-3 starts later).
    await Promise.all([one.linksConnected(['region-2']), two.linksConnected(['region-1'])]);
  }, 330_000);

  afterAll(async () => {
    await federation.stop();
  }, 60_000);

  it('replicates an active-active bucket, its settings and its objects with their bytes, and reports lag', async () => {
    await one.s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
    await one.s3.send(new PutBucketVersioningCommand({ Bucket: 'shared', VersioningConfiguration: { Status: 'Enabled' } }));
    await setReplication(one, 'shared', 'active-active');
    const small = Buffer.from('hello from region-1');
    const large = randomBytes(LARGE_BYTES);
    await one.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'small.txt', Body: small }));
    await one.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'large.bin', Body: large }));

    await eventually(() => two.s3.send(new HeadBucketCommand({ Bucket: 'shared' })).then(() => true, () => false), CONVERGE_MS, 200);
    const copy = await eventually(() => bodyOf(two.s3, 'shared', 'large.bin').catch(() => undefined), CONVERGE_MS, 200);
    expect(md5(copy)).toBe(md5(large));
    expect((await bodyOf(two.s3, 'shared', 'small.txt')).toString()).toBe('hello from region-1');
    expect(await versionsOf(two.s3, 'shared')).toEqual(await versionsOf(one.s3, 'shared'));

    // A write in region-2 comes back to region-1.
    await two.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'from-two.txt', Body: 'hello from region-2' }));
    const back = await eventually(() => bodyOf(one.s3, 'shared', 'from-two.txt').catch(() => undefined), CONVERGE_MS, 200);
    expect(back.toString()).toBe('hello from region-2');

    let lastSeen: ReplicationLagView[] = [];
    const lag = await eventually(async () => {
      lastSeen = await two.syncApi<ReplicationLagView[]>('/replication/lag');
      return lastSeen.find((v) => v.source === 'region-1' && v.connected && v.pendingEvents === 0);
    }, CONVERGE_MS, 500).catch((error: unknown) => {
      throw new Error(`${String(error)}; lag last seen: ${JSON.stringify(lastSeen)}`);
    });
    expect(lag).toMatchObject({ target: 'region-2', lagSeconds: 0 });
    expect(lag.appliedEvents).toBeGreaterThan(0);
  }, 180_000);

  it('replicates an SSE-S3 object that the other region decrypts byte-identical with the federation keyring', async () => {
    const secret = randomBytes(LARGE_BYTES);
    await one.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'sealed.bin', Body: secret, ServerSideEncryption: 'AES256' }));
    const copy = await eventually(() => bodyOf(two.s3, 'shared', 'sealed.bin').catch(() => undefined), CONVERGE_MS, 200);
    expect(md5(copy)).toBe(md5(secret));
    const head = await two.s3.send(new HeadObjectCommand({ Bucket: 'shared', Key: 'sealed.bin' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  }, 120_000);

  it('converges after a partition with writes and deletes of the same keys on both sides, losing nothing acknowledged', async () => {
    for (const bucket of ['conflicts-versioned', 'conflicts-plain']) {
      await one.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (bucket === 'conflicts-versioned') await one.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      await setReplication(one, bucket, 'active-active');
      for (const key of ['a', 'b', 'c', 'd']) await one.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `seed ${key}` }));
    }
    for (const bucket of ['conflicts-versioned', 'conflicts-plain']) {
      await converge(`the seeds of ${bucket} in region-2`, [one, two], async () => (await versionsOf(two.s3, bucket).catch(() => [])).length === 4);
    }

    await federation.proxy.cut('region-2');
    const acknowledged: { bucket: string; key: string; etag: string }[] = [];
    const put = async (region: FederatedRegion, bucket: string, key: string, body: Buffer) => {
      const res = await region.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      acknowledged.push({ bucket, key, etag: res.ETag!.replaceAll('"', '') });
    };
    for (const bucket of ['conflicts-versioned', 'conflicts-plain']) {
      await put(one, bucket, 'a', Buffer.from('a written in region-1'));
      await put(two, bucket, 'a', Buffer.from('a written in region-2'));
      await put(one, bucket, 'b', randomBytes(LARGE_BYTES));
      await two.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'b' }));
      await one.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c' }));
      await two.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'c' }));
      await put(one, bucket, 'd', Buffer.from('the same bytes'));
      await put(two, bucket, 'd', Buffer.from('the same bytes'));
      await put(two, bucket, 'e', Buffer.from('only in region-2'));
    }
    await federation.proxy.heal('region-2');

    for (const bucket of ['conflicts-versioned', 'conflicts-plain']) {
      let last: unknown = null;
      const [atOne, atTwo] = await converge(`${bucket} converging after the heal`, [one, two], async () => {
        const [x, y] = await Promise.all([versionsOf(one.s3, bucket), versionsOf(two.s3, bucket)]);
        last = { 'region-1': x, 'region-2': y };
        return JSON.stringify(x) === JSON.stringify(y) ? [x, y] : undefined;
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${JSON.stringify(last)}`);
      });
      expect(atTwo).toEqual(atOne);
      // Every acknowledged write is still there, current or kept as a noncurrent version.
      for (const ack of acknowledged.filter((a) => a.bucket === bucket)) {
        expect(atOne.some((v) => v.key === ack.key && v.etag === ack.etag)).toBe(true);
      }
      expect(atOne.filter((v) => v.key === 'e')).toHaveLength(1);
      // Each region logs each conflict once.
      for (const region of [one, two]) {
        const conflicts = await eventually(async () => {
          const found = await conflictsOf(region, bucket);
          return found.some((c) => c.key === 'a') ? found : undefined;
        }, CONVERGE_MS, 500);
        expect(new Set(conflicts.map((c) => c.conflictId)).size).toBe(conflicts.length);
      }
    }
  }, 240_000);

  it('leaves no gap and no duplicate when sync is killed with -9 in the middle of replicating', async () => {
    await one.s3.send(new CreateBucketCommand({ Bucket: 'killed' }));
    await one.s3.send(new PutBucketVersioningCommand({ Bucket: 'killed', VersioningConfiguration: { Status: 'Enabled' } }));
    await setReplication(one, 'killed', 'active-active');
    await eventually(() => two.s3.send(new HeadBucketCommand({ Bucket: 'killed' })).then(() => true, () => false), CONVERGE_MS, 200);
    const writes = Array.from({ length: 40 }, (_, i) => `k-${String(i).padStart(2, '0')}`);
    let killed = false;
    for (const [i, key] of writes.entries()) {
      await one.s3.send(new PutObjectCommand({ Bucket: 'killed', Key: key, Body: i % 4 === 0 ? randomBytes(LARGE_BYTES) : Buffer.from(key) }));
      if (i === 15) {
        await two.kill('sync');
        killed = true;
      }
    }
    expect(killed).toBe(true);
    await two.startSync();
    const atTwo = await eventually(async () => {
      const v = await versionsOf(two.s3, 'killed');
      return v.length >= writes.length ? v : undefined;
    }, CONVERGE_MS, 500);
    expect(atTwo.map((v) => v.key)).toEqual(writes);
    expect(atTwo).toEqual(await versionsOf(one.s3, 'killed'));
  }, 180_000);

  it('active-passive: the home takes the writes; another region serves reads and forwards its writes, acknowledged only once the home has them', async () => {
    await one.s3.send(new CreateBucketCommand({ Bucket: 'homed' }));
    await setReplication(one, 'homed', 'active-passive', 'region-1');
    await one.s3.send(new PutObjectCommand({ Bucket: 'homed', Key: 'from-home.txt', Body: 'written at the home' }));
    const replicated = await eventually(() => bodyOf(two.s3, 'homed', 'from-home.txt').catch(() => undefined), CONVERGE_MS, 200);
    expect(replicated.toString()).toBe('written at the home');

    // Written through region-2: at the home as soon as it is acknowledged, bytes and all, and readable where it was written.
    const body = randomBytes(LARGE_BYTES);
    const put = await two.s3.send(new PutObjectCommand({ Bucket: 'homed', Key: 'via-two.bin', Body: body }));
    expect(put.ETag?.replaceAll('"', '')).toBe(md5(body));
    const labelled = (where: string) => (error: unknown) => {
      throw new Error(`${where}: ${String(error)}`);
    };
    expect(md5(await bodyOf(one.s3, 'homed', 'via-two.bin').catch(labelled('read at the home')))).toBe(md5(body));
    expect(md5(await bodyOf(two.s3, 'homed', 'via-two.bin').catch(labelled('read where it was written')))).toBe(md5(body));
    await two.s3.send(new DeleteObjectCommand({ Bucket: 'homed', Key: 'from-home.txt' }));
    await expect(bodyOf(one.s3, 'homed', 'from-home.txt')).rejects.toMatchObject({ name: 'NoSuchKey' });

    // Cut off from the home, region-2 still serves reads but acknowledges no write.
    await federation.proxy.cut('region-2');
    try {
      await expect(two.s3.send(new PutObjectCommand({ Bucket: 'homed', Key: 'while-cut.txt', Body: 'never acknowledged' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
      expect(md5(await bodyOf(two.s3, 'homed', 'via-two.bin'))).toBe(md5(body));
    } finally {
      await federation.proxy.heal('region-2');
    }
    await eventually(async () => JSON.stringify(await versionsOf(two.s3, 'homed')) === JSON.stringify(await versionsOf(one.s3, 'homed')), CONVERGE_MS, 500);
    expect((await versionsOf(one.s3, 'homed')).map((v) => v.key)).toEqual(['via-two.bin']);
  }, 180_000);

  it('back-fills a third region that joins later to the same state', async () => {
    await three.start();
    await three.linksConnected(['region-1', 'region-2']);
    for (const bucket of ['shared', 'conflicts-versioned', 'conflicts-plain', 'killed', 'homed']) {
      const expected = await versionsOf(one.s3, bucket);
      let lastAtThree: unknown[] = [];
      const atThree = await converge(`${bucket} in region-3`, [three], async () => {
        const v = await versionsOf(three.s3, bucket).catch(() => []);
        lastAtThree = v;
        return JSON.stringify(v) === JSON.stringify(expected) ? v : undefined;
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}\nexpected ${JSON.stringify(expected)}\nregion-3 has ${JSON.stringify(lastAtThree)}`);
      });
      expect(atThree).toEqual(expected);
    }
    const large = await bodyOf(three.s3, 'shared', 'large.bin');
    expect(large.byteLength).toBe(LARGE_BYTES);
  }, 240_000);
});
