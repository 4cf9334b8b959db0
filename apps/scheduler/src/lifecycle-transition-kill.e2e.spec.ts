import { CreateBucketCommand, HeadObjectCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { METADATA_SERVICE, MetadataRpc, type HeadObjectReply } from '@cairn/protocol';
import { redisPrefixForNamespace } from '@cairn/service-kit';
import { eventually, TEST_REDIS_URL } from '@cairn/testing';
import type { LifecycleCursor, LifecycleReport } from './lifecycle/lifecycle-pass';
import { TestRegion } from './testing/region.e2e-helper';

const DAY_MS = 86_400_000;
const KiB = 1024;
const MiB = 1024 * KiB;
const NODES = ['storage-1', 'storage-2', 'storage-3', 'storage-4'];
/**
 * The region's erasure code, given to the gateway and the schedulers alike. On four nodes it differs
 * from what the default (4+2, narrowed to the ring) would give, 3+1: a stripe shows which was read.
 */
const EC_ENV = { CAIRN_EC_DATA_SHARDS: '2', CAIRN_EC_PARITY_SHARDS: '2' };
const OBJECTS = 64;
const BUCKET = 'moving';
/** Short, so the test sees the old replicas collected; long past one transition (a rewrite and its swap). */
const GC_GRACE_MS = 20_000;
/** Slow enough that the kill lands mid-pass, with transitions still to do. */
const KILL_ACTIONS_PER_SECOND = 10;

/** A few hundred KiB each, one chunk (the e2e chunk is 1 MiB); every 8th of three chunks, so a kill can land between a version's chunks. */
const sizeOf = (i: number) => (i % 8 === 7 ? 2 * MiB + 300 * KiB + i : 200 * KiB + i * 3 * KiB);
const keyOf = (i: number) => `obj/${String(i).padStart(3, '0')}`;

/**
 * A lifecycle pass moving objects from STANDARD to STANDARD_IA, killed with SIGKILL while it moves
 * them and finished by the scheduler started after it, against a region of real processes
 * (metadata, lock-manager, four storage nodes, the gateway, schedulers) whose gateway and
 * schedulers are all configured for a 2+2 code.
 */
describe('lifecycle transitions: a scheduler killed mid-pass, the pass resumed without loss', () => {
  const region = new TestRegion(
    {
      CAIRN_LIFECYCLE_INTERVAL_MS: String(DAY_MS),
      CAIRN_LIFECYCLE_ACTIONS_PER_SECOND: '1000',
      CAIRN_SWEEP_INTERVAL_MS: '2000',
      CAIRN_GC_GRACE_MS: String(GC_GRACE_MS),
      CAIRN_RESTORE_WINDOW: '0',
      ...EC_ENV,
    },
    { accessEnv: EC_ENV },
  );
  const bodies = new Map<string, Buffer>();
  const version = (key: string) => region.rpc.request<HeadObjectReply>(METADATA_SERVICE, MetadataRpc.headObject, { bucket: BUCKET, key });
  const classOf = async (key: string) => (await region.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).StorageClass ?? 'STANDARD';
  const report = async (id: string, instance: string) => (await region.admin<LifecycleReport>('GET', `/admin/lifecycle/runs/${id}`, undefined, instance)).body;
  const heldAnywhere = async () => {
    const holdings = await Promise.all(NODES.map((n) => region.held(n)));
    return (hash: string) => holdings.some((h) => h.has(hash));
  };

  let redis: Redis;
  const savedCursor = async (id: string) => {
    const raw = await redis.get(`${redisPrefixForNamespace(region.namespace)}scheduler:lifecycle:cursor:${id}`);
    return raw === null ? null : (JSON.parse(raw) as LifecycleCursor | null);
  };

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    await region.start(NODES.length);
    await region.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await region.stop();
  }, 60_000);

  it('the gateway writes STANDARD_IA in the configured code (2+2 on four nodes, not the default’s 3+1)', async () => {
    const body = randomBytes(300 * KiB);
    await region.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put-cold', Body: body, StorageClass: 'STANDARD_IA' }));
    const put = await version('put-cold');
    expect(put.chunks.map((c) => c.erasure && `${c.erasure.dataShards}+${c.erasure.parityShards}`)).toEqual(['2+2']);
    expect((await region.get(BUCKET, 'put-cold')).equals(body)).toBe(true);
  }, 60_000);

  it('a pass killed with SIGKILL while it moves objects, twice, is finished by the next scheduler: every object moved once, in the configured code, byte-identical, the old replicas collected', async () => {
    for (let i = 0; i < OBJECTS; i++) {
      const body = randomBytes(sizeOf(i));
      bodies.set(keyOf(i), body);
      await region.put(BUCKET, keyOf(i), body);
    }
    const before = new Map<string, HeadObjectReply>();
    for (const key of bodies.keys()) before.set(key, await version(key));
    const oldChunks = [...before.values()].flatMap((v) => v.chunks.map((c) => c.hash));
    expect(oldChunks.length).toBe(OBJECTS + 2 * (OBJECTS / 8));
    expect([...before.values()].every((v) => v.chunks.every((c) => c.erasure === undefined && c.inline === undefined))).toBe(true);
    await region.s3.send(
      new PutBucketLifecycleConfigurationCommand({ Bucket: BUCKET, LifecycleConfiguration: { Rules: [{ ID: 'cool', Status: 'Enabled', Filter: { Prefix: 'obj/' }, Transitions: [{ Days: 30, StorageClass: 'STANDARD_IA' }] }] } }),
    );

    // A slow scheduler takes the pass and is killed while a transition is in flight (its saved cursor names one pending);
    // a second slow one takes it over and is killed the same way; a third finishes it.
    const now = new Date(Date.now() + 31 * DAY_MS).toISOString();
    await region.startScheduler('slow-1', { CAIRN_LIFECYCLE_ACTIONS_PER_SECOND: String(KILL_ACTIONS_PER_SECOND) });
    const queued = await region.admin<LifecycleReport>('POST', '/admin/lifecycle/run', { bucket: BUCKET, now }, 'slow-1');
    expect(queued.status).toBe(200);
    const id = queued.body.id;
    const killMidTransition = async (instance: string, resumes: number, movedAtLeast: number) => {
      await eventually(
        async () => {
          const cursor = await savedCursor(id);
          return cursor !== null && cursor.resumes === resumes && cursor.counts.transitioned >= movedAtLeast && cursor.pending?.kind === 'transition';
        },
        120_000,
        20,
      );
      const child = region.scheduler(instance).child;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const atKill = await savedCursor(id);
      return { moved: atKill?.counts.transitioned ?? 0, inFlight: atKill?.pending?.key ?? null };
    };
    const firstKill = await killMidTransition('slow-1', 0, OBJECTS / 4);

    // Right after the kill, before anyone resumes: each object is wholly in one class or the other, and reads back as written.
    const classesAtKill = new Map<string, string>();
    for (const [key, body] of bodies) {
      classesAtKill.set(key, await classOf(key));
      expect((await region.get(BUCKET, key)).equals(body)).toBe(true);
    }
    const movedAtKill = [...classesAtKill.values()].filter((c) => c === 'STANDARD_IA').length;
    expect(movedAtKill).toBeGreaterThan(0);
    expect(movedAtKill).toBeLessThan(OBJECTS);

    await region.startScheduler('slow-2', { CAIRN_LIFECYCLE_ACTIONS_PER_SECOND: String(KILL_ACTIONS_PER_SECOND) });
    const secondKill = await killMidTransition('slow-2', 1, OBJECTS / 2);
    const movedAtSecondKill = (await Promise.all([...bodies.keys()].map(classOf))).filter((c) => c === 'STANDARD_IA').length;
    expect(movedAtSecondKill).toBeGreaterThan(movedAtKill);
    expect(movedAtSecondKill).toBeLessThan(OBJECTS);

    await region.startScheduler('scheduler-3');
    const finished = await eventually(
      async () => {
        const r = await report(id, 'scheduler-3');
        return r.state === 'done' ? r : undefined;
      },
      180_000,
      500,
    );
    expect(finished.resumes).toBe(2);
    expect(finished.counts).toMatchObject({ transitioned: OBJECTS, failures: 0, transitionsUnavailable: 0, keysScanned: OBJECTS + 1, versionsScanned: OBJECTS + 1 });
    expect(finished.progress.doneItems).toBe(finished.progress.totalItems);
    // The resumed pass did not lose its cursor: the job is over and nothing is left to resume.
    expect(await savedCursor(id)).toBeNull();

    for (const [key, body] of bodies) {
      expect(await classOf(key)).toBe('STANDARD_IA');
      const after = await version(key);
      const was = before.get(key)!;
      // Moved in place: same version, etag and chunk boundaries; every chunk a 2+2 stripe (the scheduler read CAIRN_EC_*).
      expect([after.versionId, after.etag, after.storageClass]).toEqual([was.versionId, was.etag, 'STANDARD_IA']);
      expect(after.chunks.map((c) => [c.hash, c.offsetBytes, c.sizeBytes])).toEqual(was.chunks.map((c) => [c.hash, c.offsetBytes, c.sizeBytes]));
      expect(after.chunks.every((c) => c.erasure?.dataShards === 2 && c.erasure.parityShards === 2 && c.erasure.shards.length === 4)).toBe(true);
      expect((await region.get(BUCKET, key)).equals(body)).toBe(true);
    }

    // No version names a chunk or shard that no node holds (the sweep would rebuild a shard a write missed; none should be missing for long).
    const referenced = await region.references();
    await eventually(async () => {
      const held = await heldAnywhere();
      return referenced.every((r) => held(r.hash));
    }, 60_000, 1_000);
    // The replicated chunks the objects had are named by nothing now, and garbage collection takes them from every node.
    const stillReferenced = new Set(referenced.map((r) => r.hash));
    expect(oldChunks.filter((h) => stillReferenced.has(h))).toEqual([]);
    await eventually(async () => {
      const held = await heldAnywhere();
      return oldChunks.every((h) => !held(h));
    }, 6 * GC_GRACE_MS, 1_000);
    // …and it took nothing that is still named.
    const held = await heldAnywhere();
    expect(referenced.filter((r) => !held(r.hash)).map((r) => r.hash)).toEqual([]);

    // Moved once: another pass has nothing to move.
    const again = await region.admin<LifecycleReport>('POST', '/admin/lifecycle/run', { bucket: BUCKET, now, wait: true }, 'scheduler-3');
    expect(again.body).toMatchObject({ state: 'done', counts: { transitioned: 0, failures: 0 } });
    console.log(
      `lifecycle transition pass killed after ${firstKill.moved} of ${OBJECTS} moves (${firstKill.inFlight ?? 'none'} in flight), again after ${secondKill.moved} (${secondKill.inFlight ?? 'none'} in flight); resumed ${finished.resumes}×, ` +
        `finished with ${finished.counts.transitioned} moved (${finished.counts.skippedChanged} skipped as changed); ${oldChunks.length} old replicated chunks collected`,
    );
  }, 480_000);
});
